"""Operator controls: pause, resume and cancel a sending campaign, its pace, dead letters and their replay."""

from __future__ import annotations

from typing import Annotated

from dispatch.lifecycle import DeadLetterReason
from fastapi import APIRouter, Path, Query

from campaign_api.accounts import Caller, Scope
from campaign_api.api.deps import CampaignsReader, CampaignsWriter, require, use
from campaign_api.api.operator_schemas import (
    DeadLetterBody,
    DeadLetterListBody,
    PaceBody,
    ReplayRequest,
    ReplayResponse,
)
from campaign_api.api.routes.responses import declare
from campaign_api.api.schemas import BIGINT_LIMIT, CampaignBody
from campaign_api.usecases.list_dead_letters import ListDeadLetters
from campaign_api.usecases.pause_campaign import PauseCampaign
from campaign_api.usecases.replay_dead_letters import ReplayDeadLetters, ReplaySelection, RetryFailed
from campaign_api.usecases.resume_campaign import ResumeCampaign
from campaign_api.usecases.set_pace import GetPace, SetPace

router = APIRouter(tags=["operator controls"])

CampaignId = Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)]
OptionalId = Annotated[int | None, Query(ge=1, lt=BIGINT_LIMIT)]
# sending messages again is a send: the send scope, and the send rate limit
Resender = Annotated[Caller, require(Scope.CAMPAIGNS_SEND, buckets=("api", "send"))]


@router.post("/campaigns/{campaign_id}/pause", responses=declare(404, 409, 422, 503))
async def pause_campaign(
    campaign_id: CampaignId, caller: CampaignsWriter, pause: Annotated[PauseCampaign, use(PauseCampaign)]
) -> CampaignBody:
    """Stop a sending campaign: no new attempt starts on any worker once this answers; attempts already in
    flight finish and are recorded. Its waiting messages stay pending (409 CAMPAIGN_NOT_PAUSABLE unless sending)."""
    return CampaignBody.model_validate(await pause(caller, campaign_id))


@router.post("/campaigns/{campaign_id}/resume", responses=declare(404, 409, 422, 503))
async def resume_campaign(
    campaign_id: CampaignId, caller: CampaignsWriter, resume: Annotated[ResumeCampaign, use(ResumeCampaign)]
) -> CampaignBody:
    """Send a paused campaign's waiting messages again, from where it stopped (409 CAMPAIGN_NOT_RESUMABLE unless
    paused)."""
    return CampaignBody.model_validate(await resume(caller, campaign_id))


@router.post("/campaigns/{campaign_id}/retry-failed", responses=declare(404, 409, 422, 429, 503))
async def retry_failed(
    campaign_id: CampaignId, caller: Resender, retry: Annotated[RetryFailed, use(RetryFailed)]
) -> ReplayResponse:
    """Queue the campaign's failed messages again, retries reset (never suppressed, expired or cancelled ones);
    each once: a second call finds them pending and queues nothing. The campaign is sending again until they end."""
    return ReplayResponse.of(await retry(caller, campaign_id))


@router.put("/campaigns/{campaign_id}/pace", responses=declare(400, 404, 413, 415, 422, 503))
async def set_pace(
    campaign_id: CampaignId, body: PaceBody, caller: CampaignsWriter, pace: Annotated[SetPace, use(SetPace)]
) -> PaceBody:
    """Cap the campaign at `pace_per_minute` messages a minute across every worker (null lifts the cap); a sending
    campaign's waiting messages are spread over the new pace from now."""
    return PaceBody(pace_per_minute=await pace(caller, campaign_id, body.pace_per_minute))


@router.get("/campaigns/{campaign_id}/pace", responses=declare(404, 422, 503))
async def get_pace(
    campaign_id: CampaignId, caller: CampaignsReader, pace: Annotated[GetPace, use(GetPace)]
) -> PaceBody:
    """The campaign's pace (null: no cap)."""
    return PaceBody(pace_per_minute=await pace(caller, campaign_id))


@router.get("/dead-letters", tags=["dead letters"], responses=declare(422, 503))
async def list_dead_letters(
    caller: CampaignsReader,
    list_page: Annotated[ListDeadLetters, use(ListDeadLetters)],
    campaign_id: OptionalId = None,
    reason: DeadLetterReason | None = None,
    before_id: Annotated[
        int | None, Query(ge=1, lt=BIGINT_LIMIT, description="keyset bound: pass next_cursor here")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeadLetterListBody:
    """The account's messages that failed for good (newest first), with their reason, last error and attempts."""
    page = await list_page(caller, limit=limit, before_id=before_id, campaign_id=campaign_id, reason=reason)
    return DeadLetterListBody(data=[DeadLetterBody.of(item) for item in page.items], next_cursor=page.next_cursor)


@router.post("/dead-letters/replay", tags=["dead letters"], responses=declare(400, 413, 415, 422, 429, 503))
async def replay_dead_letters(
    body: ReplayRequest, caller: Resender, replay: Annotated[ReplayDeadLetters, use(ReplayDeadLetters)]
) -> ReplayResponse:
    """Send dead letters again (by message_ids, campaign_id, reason, or several ANDed): back to pending with their
    retries reset, published again, recorded in the audit log with the key that asked; their jobs leave RabbitMQ's
    DLQ. Each is replayed once however often it is asked. At most 100,000 a call: call again for the rest."""
    selection = ReplaySelection(
        message_ids=body.message_ids, campaign_id=body.campaign_id, reason=body.reason.value if body.reason else None
    )
    return ReplayResponse.of(await replay(caller, selection))

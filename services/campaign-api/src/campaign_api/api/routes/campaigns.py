"""/campaigns: thin handlers over the campaign use cases."""

from __future__ import annotations

import logging
from typing import Annotated

from dispatch.lifecycle import Category, Channel
from fastapi import APIRouter, Body, Path, Query, Response

from campaign_api.api.deps import (
    CampaignsReader,
    CampaignsWriter,
    DueReader,
    IdempotencyKeyHeader,
    MetricsDep,
    Sender,
    TraceparentDep,
    use,
)
from campaign_api.api.routes.responses import CAMPAIGN_LINKS, created, declare, json_of
from campaign_api.api.schemas import (
    BIGINT_LIMIT,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    CampaignBody,
    CampaignDetailBody,
    CampaignListBody,
    CampaignSummaryBody,
    CreateCampaignRequest,
    DueCampaignBody,
    DueCampaignListBody,
    PaginationBody,
    PreviewRequest,
    PreviewResponse,
    SendRequest,
    SendResponse,
    UpdateCampaignRequest,
)
from campaign_api.domain import DEFAULT_VALIDITY_HOURS, CampaignStatus, NewCampaign, PageRequest
from campaign_api.usecases.cancel_campaign import CancelCampaign
from campaign_api.usecases.create_campaign import CreateCampaign
from campaign_api.usecases.get_campaign import GetCampaign
from campaign_api.usecases.list_campaigns import ListCampaigns
from campaign_api.usecases.list_due_campaigns import ListDueCampaigns
from campaign_api.usecases.preview_message import PreviewMessage
from campaign_api.usecases.send_campaign import SendCampaign
from campaign_api.usecases.update_campaign import UpdateCampaign

log = logging.getLogger(__name__)
router = APIRouter(prefix="/campaigns", tags=["campaigns"])

# set on an answer replayed for a repeated Idempotency-Key
REPLAYED_HEADER = "Idempotent-Replayed"

Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page, at most 100 (larger is rejected with 422)")
]
BeforeId = Annotated[
    int | None,
    Query(ge=1, lt=BIGINT_LIMIT, description="keyset bound: only rows with id < before_id (pass next_cursor here)"),
]
CampaignId = Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)]


@router.post(
    "",
    status_code=201,
    responses=created("the campaign", CAMPAIGN_LINKS) | declare(400, 413, 415, 422, 503),
)
async def create_campaign(
    body: CreateCampaignRequest,
    caller: CampaignsWriter,
    create: Annotated[CreateCampaign, use(CreateCampaign)],
    metrics: MetricsDep,
) -> CampaignBody:
    """Create a campaign: a draft, or scheduled when scheduled_at is in the future."""
    campaign = await create(
        caller,
        NewCampaign(
            name=body.name,
            channel=body.channel,
            base_template=body.base_template,
            scheduled_at=body.scheduled_at,
            audience=body.audience.to_domain() if body.audience else None,
            sender_id=body.sender_id,
            category=body.category or Category.PROMOTIONAL,
            validity_hours=body.validity_hours or DEFAULT_VALIDITY_HOURS,
        ),
    )
    metrics.campaigns_created.labels(channel=campaign.channel.value).inc()
    return CampaignBody.model_validate(campaign)


@router.get("", response_model=CampaignListBody, responses=declare(422, 503))
async def list_campaigns(
    caller: CampaignsReader,
    list_page: Annotated[ListCampaigns, use(ListCampaigns)],
    page: Page = 1,
    page_size: PageSize = 20,
    channel: Channel | None = None,
    status: CampaignStatus | None = None,
    before_id: BeforeId = None,
) -> Response:
    """Campaigns newest first (id DESC), filtered; offset pages inside an optional before_id keyset bound."""
    result = await list_page(caller, PageRequest(page, page_size, before_id), channel, status)
    return json_of(
        CampaignListBody(
            data=[CampaignSummaryBody.model_validate(item) for item in result.items],
            pagination=PaginationBody.of(result),
        )
    )


@router.get("/due", responses=declare(422, 503))
async def list_due_campaigns(
    caller: DueReader,
    list_due: Annotated[ListDueCampaigns, use(ListDueCampaigns)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DueCampaignListBody:
    """Scheduled campaigns whose scheduled_at has passed, the longest-waiting first (the scheduler's poll).

    An account's key lists its own; the scheduler's system key (`campaigns:schedule`) lists every account's.
    """
    return DueCampaignListBody(data=[DueCampaignBody.model_validate(due) for due in await list_due(caller, limit)])


@router.get("/{campaign_id}", response_model=CampaignDetailBody, responses=declare(404, 422, 503))
async def get_campaign(
    campaign_id: CampaignId, caller: CampaignsReader, get: Annotated[GetCampaign, use(GetCampaign)]
) -> Response:
    """One campaign with its message counts by status."""
    return json_of(CampaignDetailBody.model_validate(await get(caller, campaign_id)))


@router.patch("/{campaign_id}", responses=declare(400, 404, 409, 413, 415, 422, 503))
async def update_campaign(
    campaign_id: CampaignId,
    body: UpdateCampaignRequest,
    caller: CampaignsWriter,
    update: Annotated[UpdateCampaign, use(UpdateCampaign)],
) -> CampaignBody:
    """Edit a draft or scheduled campaign; only the fields in the body change (409 CAMPAIGN_NOT_EDITABLE otherwise).

    A future `scheduled_at` makes it scheduled, `null` makes it a draft; `audience: null` clears the audience.
    """
    return CampaignBody.model_validate(await update(caller, campaign_id, body.to_domain()))


@router.post("/{campaign_id}/cancel", responses=declare(404, 409, 422, 503))
async def cancel_campaign(
    campaign_id: CampaignId, caller: CampaignsWriter, cancel: Annotated[CancelCampaign, use(CancelCampaign)]
) -> CampaignBody:
    """Take a scheduled campaign off the schedule: it becomes a draft without scheduled_at (409 unless scheduled)."""
    return CampaignBody.model_validate(await cancel(caller, campaign_id))


@router.post(
    "/{campaign_id}/send",
    status_code=202,
    responses=declare(400, 404, 409, 413, 415, 422, 503),
)
async def send_campaign(
    campaign_id: CampaignId,
    caller: Sender,
    send: Annotated[SendCampaign, use(SendCampaign)],
    metrics: MetricsDep,
    traceparent: TraceparentDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
    body: Annotated[SendRequest | None, Body()] = None,
) -> SendResponse:
    """Queue one message per customer and answer at once (202): delivery happens in the background.

    Without a body the campaign's stored audience is used (422 AUDIENCE_REQUIRED when it has none). An audience
    that resolves to nobody is 422 AUDIENCE_EMPTY and changes nothing, except that a scheduled campaign already due
    is then marked failed with a `status_reason`. `expected_segments*` estimate the SMS segments from the send's
    first messages rendered for their customers (up to 100), as the worker will render them.
    """
    outcome = await send(
        caller,
        campaign_id,
        body.distinct_ids() if body is not None else None,
        traceparent=traceparent,
        idempotency_key=idempotency_key,
    )
    if outcome.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    else:
        metrics.campaigns_dispatched.labels(channel=outcome.channel.value).inc()
    # carries the request's trace_id: the log line an operator starts from to find the send's trace
    log.info(
        "campaign send accepted",
        extra={
            "campaign_id": outcome.campaign_id,
            "messages_queued": outcome.messages_queued,
            "channel": outcome.channel.value,
            "replayed": outcome.replayed,
        },
    )
    return SendResponse(
        campaign_id=outcome.campaign_id,
        messages_queued=outcome.messages_queued,
        status=outcome.status,
        suppressed=outcome.suppressed,
        expected_segments=outcome.segments.per_message,
        expected_segments_total=outcome.segments.total,
        expected_segments_sampled=outcome.segments.sampled,
    )


@router.post("/{campaign_id}/personalized-preview", responses=declare(400, 404, 413, 415, 422, 503))
async def preview_message(
    campaign_id: CampaignId,
    body: PreviewRequest,
    caller: CampaignsReader,
    preview: Annotated[PreviewMessage, use(PreviewMessage)],
) -> PreviewResponse:
    """Render the campaign's template (or override_template) for one customer, with its SMS facts."""
    return PreviewResponse.of(await preview(caller, campaign_id, body.customer_id, body.override_template))

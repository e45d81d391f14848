"""/suppressions, /account/compliance and /inbound-messages: the compliance endpoints (issue 15)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Response

from campaign_api.api.compliance_schemas import (
    ComplianceSettingsBody,
    ComplianceSettingsRequest,
    CreateSuppressionRequest,
    InboundMessageBody,
    InboundMessageListBody,
    InboundMessageRequest,
    InboundResultBody,
    SuppressionBody,
    SuppressionListBody,
)
from campaign_api.api.deps import (
    ComplianceAdmin,
    InboundReader,
    InboundWriter,
    SuppressionsReader,
    SuppressionsWriter,
    use,
)
from campaign_api.api.routes.responses import declare
from campaign_api.api.schemas import BIGINT_LIMIT
from campaign_api.usecases.add_suppression import AddSuppression
from campaign_api.usecases.get_compliance_settings import GetComplianceSettings
from campaign_api.usecases.lift_suppression import LiftSuppression
from campaign_api.usecases.list_inbound_messages import ListInboundMessages
from campaign_api.usecases.list_suppressions import ListSuppressions
from campaign_api.usecases.put_compliance_settings import PutComplianceSettings
from campaign_api.usecases.receive_inbound_message import ReceiveInboundMessage

router = APIRouter()

BeforeId = Annotated[
    int | None, Query(ge=1, lt=BIGINT_LIMIT, description="keyset bound: only ids below it (pass next_cursor here)")
]
Limit = Annotated[int, Query(ge=1, le=100)]
# POST /inbound-messages answers 200 instead of 201 when the provider_message_id was stored before
REPEATED: Final[dict[int | str, dict[str, Any]]] = {
    200: {"model": InboundResultBody, "description": "a repeated provider_message_id: nothing new stored or done"}
}


@router.post("/suppressions", status_code=201, tags=["compliance"], responses=declare(400, 409, 413, 415, 422, 503))
async def create_suppression(
    body: CreateSuppressionRequest,
    caller: SuppressionsWriter,
    add: Annotated[AddSuppression, use(AddSuppression)],
) -> SuppressionBody:
    """Suppress a phone on one channel or every channel: sends leave it out, and its unsent messages end
    `suppressed` when their turn comes (409 SUPPRESSION_EXISTS when it already is)."""
    return SuppressionBody.of(await add(caller, body.phone, body.channel, body.reason.strip()))


@router.get("/suppressions", tags=["compliance"], responses=declare(422, 503))
async def list_suppressions(
    caller: SuppressionsReader,
    list_page: Annotated[ListSuppressions, use(ListSuppressions)],
    before_id: BeforeId = None,
    limit: Limit = 50,
    phone: Annotated[str | None, Query(min_length=1, max_length=40, description="one number, any spelling")] = None,
) -> SuppressionListBody:
    """Your account's suppressions, newest first, in keyset pages."""
    found = await list_page(caller, before_id, limit, phone)
    cursor = found[-1].id if len(found) == limit else None
    return SuppressionListBody(data=[SuppressionBody.of(s) for s in found], next_cursor=cursor)


@router.delete("/suppressions/{suppression_id}", tags=["compliance"], responses=declare(404, 422, 503))
async def delete_suppression(
    suppression_id: Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)],
    caller: SuppressionsWriter,
    lift: Annotated[LiftSuppression, use(LiftSuppression)],
) -> SuppressionBody:
    """Lift a suppression: the phone is sent to again from the next send on; answers what was lifted."""
    return SuppressionBody.of(await lift(caller, suppression_id))


@router.get("/account/compliance", tags=["compliance"], responses=declare(503))
async def get_compliance_settings(
    caller: ComplianceAdmin, get: Annotated[GetComplianceSettings, use(GetComplianceSettings)]
) -> ComplianceSettingsBody:
    """Your account's send window, opt-out rule and keywords (a new account: no window, no instruction)."""
    return ComplianceSettingsBody.of(await get(caller))


@router.put("/account/compliance", tags=["compliance"], responses=declare(400, 413, 415, 422, 503))
async def put_compliance_settings(
    body: ComplianceSettingsRequest,
    caller: ComplianceAdmin,
    put: Annotated[PutComplianceSettings, use(PutComplianceSettings)],
) -> ComplianceSettingsBody:
    """Replace the settings (a field left out takes its default); the dispatch worker applies them from its next
    batch, so messages already waiting for a window are judged again when they come back."""
    return ComplianceSettingsBody.of(await put(caller, body.to_domain()))


@router.post(
    "/inbound-messages",
    status_code=201,
    tags=["compliance"],
    responses=REPEATED | declare(400, 413, 415, 422, 503),
)
async def receive_inbound_message(
    body: InboundMessageRequest,
    caller: InboundWriter,
    receive: Annotated[ReceiveInboundMessage, use(ReceiveInboundMessage)],
    response: Response,
) -> InboundResultBody:
    """Store a message a recipient sent (provider `api`); a stop keyword (STOP, UNSUBSCRIBE, ...: case, spacing
    and punctuation ignored) suppresses the phone on that channel, a start keyword (START, UNSTOP) lifts it.
    A repeated provider_message_id answers 200 with `duplicate: true` and changes nothing."""
    recorded = await receive(caller, body.channel, body.phone, body.body, body.provider_message_id)
    if recorded is None:
        response.status_code = 200
    return InboundResultBody.of(recorded)


@router.get("/inbound-messages", tags=["compliance"], responses=declare(422, 503))
async def list_inbound_messages(
    caller: InboundReader,
    list_page: Annotated[ListInboundMessages, use(ListInboundMessages)],
    before_id: BeforeId = None,
    limit: Limit = 50,
) -> InboundMessageListBody:
    """Your account's inbound messages, newest first, in keyset pages (every way in stores here)."""
    found = await list_page(caller, before_id, limit)
    cursor = found[-1].id if len(found) == limit else None
    return InboundMessageListBody(data=[InboundMessageBody.of(m) for m in found], next_cursor=cursor)

"""/senders: an account's senders (provider, address, credentials by reference, throughput, callback URLs)."""

from __future__ import annotations

from typing import Annotated, cast

from dispatch.lifecycle import Channel
from fastapi import APIRouter, Path, Query, Request, Response

from campaign_api.api.deps import SendersReader, SendersWriter, use
from campaign_api.api.routes.responses import created, declare, link
from campaign_api.api.schemas import BIGINT_LIMIT, MAX_PAGE_SIZE
from campaign_api.api.sender_schemas import CreateSenderRequest, SenderBody, SenderListBody, UpdateSenderRequest
from campaign_api.settings import Settings
from campaign_api.usecases.manage_senders import CreateSender, DeleteSender, GetSender, ListSenders, UpdateSender

router = APIRouter(prefix="/senders", tags=["senders"])

SenderId = Annotated[int, Path(ge=1, lt=BIGINT_LIMIT)]
SENDER_PATH = "/senders/{sender_id}"
SENDER_LINKS = {
    "GetSender": link("get", SENDER_PATH, "sender_id"),
    "UpdateSender": link("patch", SENDER_PATH, "sender_id"),
    "DeleteSender": link("delete", SENDER_PATH, "sender_id"),
}


def base_url(request: Request) -> str:
    """Where providers reach this API: PUBLIC_BASE_URL, else the address this request came to."""
    configured = cast(Settings, request.app.state.settings).public_base_url
    return configured or str(request.base_url)


@router.post("", status_code=201, responses=created("the sender", SENDER_LINKS) | declare(400, 409, 413, 415, 422, 503))
async def create_sender(
    body: CreateSenderRequest,
    request: Request,
    caller: SendersWriter,
    create: Annotated[CreateSender, use(CreateSender)],
) -> SenderBody:
    """Add a sender. The provider fixes the channel (kannel and aggregator: sms; whatsapp: whatsapp; mock: both);
    the answer carries the callback URLs to give the provider (receipts and inbound messages)."""
    return SenderBody.of(await create(caller, body.to_domain()), base_url(request))


@router.get("", responses=declare(422, 503))
async def list_senders(
    request: Request,
    caller: SendersReader,
    list_page: Annotated[ListSenders, use(ListSenders)],
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page, at most 100")] = 20,
    before_id: Annotated[
        int | None, Query(ge=1, lt=BIGINT_LIMIT, description="only senders with id < before_id (next_cursor)")
    ] = None,
    channel: Channel | None = None,
) -> SenderListBody:
    """The account's senders newest first, in keyset pages (pass next_cursor as before_id)."""
    items, total = await list_page(caller, page_size, before_id, channel)
    more = len(items) == page_size and total > page_size
    base = base_url(request)
    return SenderListBody(
        data=[SenderBody.of(item, base) for item in items],
        total_count=total,
        next_cursor=items[-1].id if more else None,
    )


@router.get("/{sender_id}", responses=declare(404, 422, 503))
async def get_sender(
    sender_id: SenderId, request: Request, caller: SendersReader, get: Annotated[GetSender, use(GetSender)]
) -> SenderBody:
    """One sender."""
    return SenderBody.of(await get(caller, sender_id), base_url(request))


@router.patch("/{sender_id}", responses=declare(400, 404, 409, 413, 415, 422, 503))
async def update_sender(
    sender_id: SenderId,
    body: UpdateSenderRequest,
    request: Request,
    caller: SendersWriter,
    update: Annotated[UpdateSender, use(UpdateSender)],
) -> SenderBody:
    """Change a sender; `rotate_callback_token: true` issues new callback URLs (the old ones stop at once)."""
    return SenderBody.of(await update(caller, sender_id, body.to_domain()), base_url(request))


@router.delete("/{sender_id}", status_code=204, responses=declare(404, 409, 422, 503))
async def delete_sender(
    sender_id: SenderId, caller: SendersWriter, delete: Annotated[DeleteSender, use(DeleteSender)]
) -> Response:
    """Delete a sender no campaign names (409 SENDER_IN_USE otherwise)."""
    await delete(caller, sender_id)
    return Response(status_code=204)

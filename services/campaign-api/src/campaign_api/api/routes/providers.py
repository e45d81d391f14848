"""/providers: the callbacks providers make — delivery receipts and inbound messages (MO), one route per provider.

Not API-key authenticated: the sender's random callback token in the URL (Kannel, the aggregator) or Meta's
X-Hub-Signature-256 over the raw body (WhatsApp) is the credential. Anything that is not a receipt answers 422 in
the error shape, never 500; a receipt for a message not known (yet) answers 200 and is kept and counted.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime
from typing import Annotated, Any, Final, cast
from urllib.parse import parse_qs

from dispatch.lifecycle import Channel
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from campaign_api.api.deps import MetricsDep, use
from campaign_api.api.schemas import ErrorResponse
from campaign_api.channels import Provider
from campaign_api.errors import CampaignApiError, Forbidden, InvalidInput, NotFound
from campaign_api.inbound import InboundMessage
from campaign_api.phone_numbers import normalise_phone
from campaign_api.receipts import (
    Receipt,
    UnreadableReceipt,
    aggregator_receipt,
    clip,
    kannel_receipt,
    signature_matches,
    unix_time,
    whatsapp_receipt,
)
from campaign_api.settings import Settings
from campaign_api.usecases.provider_callbacks import (
    CallbackSender,
    CallbackUnauthenticated,
    RecordInbound,
    RecordOptOut,
    RecordReceipts,
    ResolveSender,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/providers", tags=["provider callbacks"])

Token = Annotated[str, Path(min_length=1, max_length=200, description="the sender's callback token")]
MAX_TEXT: Final = 4096


class UnreadableCallback(InvalidInput):
    """422: the callback's fields are not what the provider's documents say it sends."""

    code = "INVALID_CALLBACK"


class BadSignature(Forbidden):
    """403 FORBIDDEN: X-Hub-Signature-256 does not match the body."""

    def __init__(self) -> None:
        CampaignApiError.__init__(self, "X-Hub-Signature-256 does not match the body under the app secret")


class WebhookNotConfigured(NotFound):
    """404: this deployment has no WhatsApp webhook (its app secret or verify token is not set)."""

    code = "WEBHOOK_NOT_CONFIGURED"


def callback_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a callback route (no API key, so no 429)."""
    described = {
        401: "UNAUTHENTICATED: unknown callback token / no X-Hub-Signature-256",
        403: "FORBIDDEN: X-Hub-Signature-256 does not match / a wrong hub.verify_token",
        404: "WEBHOOK_NOT_CONFIGURED: WHATSAPP_APP_SECRET / WHATSAPP_VERIFY_TOKEN is not set",
        422: "INVALID_CALLBACK: not this provider's receipt or message / VALIDATION_ERROR: a parameter's bounds",
        503: "DATABASE_UNAVAILABLE",
    }
    return {status: {"model": ErrorResponse, "description": described[status]} for status in statuses}


# an answer of plain text (Kannel reads an empty one as "no reply SMS"; Meta reads the challenge)
PLAIN_TEXT: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "plain text", "content": {"text/plain": {"schema": {"type": "string"}}}}
}


class CallbackAck(BaseModel):
    """What a callback stored: one outcome per receipt, or the inbound messages that were new."""

    outcomes: list[str] = Field(default_factory=list, examples=[["applied"]])
    inbound_stored: int = 0
    suppressed: int = Field(0, description="opt-out callbacks: 1 when the phone was not suppressed before")


def settings_of(request: Request) -> Settings:
    """The app's settings (the webhook's secrets)."""
    return cast(Settings, request.app.state.settings)


async def form_of(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the first value of each field); 400 when it is not one."""
    raw = await request.body()
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw), max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableCallback("the body is not a UTF-8 form (application/x-www-form-urlencoded)") from exc
    return {name: values[0].replace("\x00", "") for name, values in fields.items() if values}


def phone_of(raw: str | None, field: str) -> str:
    """A sender's number as E.164; 400 when it is none."""
    if not raw:
        raise UnreadableCallback(f"{field}: the sender's number is required")
    try:
        return normalise_phone(raw.strip())
    except ValueError as exc:
        raise UnreadableCallback(f"{field}: not a phone number") from exc


def text_of(raw: str | None) -> str:
    return (raw or "").replace("\x00", "")[:MAX_TEXT]


def aggregator_time(raw: str | None) -> datetime | None:
    """Africa's Talking's `date` (ISO 8601, e.g. 2024-05-01T10:00:00.000Z); None when unreadable."""
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def rejected(metrics: MetricsDep, provider: Provider, reason: str) -> None:
    metrics.callbacks_rejected.labels(provider.value, reason).inc()


async def sender_for(resolve: ResolveSender, metrics: MetricsDep, token: str, provider: Provider) -> CallbackSender:
    try:
        return await resolve.by_token(token, provider)
    except CallbackUnauthenticated:
        rejected(metrics, provider, "unknown_token")
        raise


# --- Kannel -------------------------------------------------------------------------------------------------


@router.get("/kannel/{token}/receipts", responses=callback_responses(401, 422, 503))
async def kannel_receipts(
    token: Token,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record: Annotated[RecordReceipts, use(RecordReceipts)],
    message_id: Annotated[str | None, Query(max_length=40, description="our outbound message id")] = None,
    type: Annotated[str | None, Query(max_length=8, description="Kannel's %d: 1, 2, 4, 8 or 16")] = None,
    reply: Annotated[str | None, Query(max_length=1000, description="Kannel's %A: the SMSC's reply")] = None,
    ts: Annotated[str | None, Query(max_length=20, description="Kannel's %T: Unix time of the report")] = None,
) -> CallbackAck:
    """Kannel's dlr-url: `?message_id=<our id>&type=%d&reply=%A&ts=%T`."""
    sender = await sender_for(resolve, metrics, token, Provider.KANNEL)
    try:
        receipt = kannel_receipt(message_id, type, reply, ts)
    except UnreadableReceipt as exc:
        rejected(metrics, Provider.KANNEL, "unreadable")
        raise UnreadableCallback(str(exc)) from exc
    return CallbackAck(outcomes=[o.value for o in await record(sender, [receipt])])


@router.get("/kannel/{token}/inbound", response_model=None, responses=PLAIN_TEXT | callback_responses(401, 422, 503))
async def kannel_inbound(
    token: Token,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record: Annotated[RecordInbound, use(RecordInbound)],
    sender_number: Annotated[str | None, Query(alias="from", max_length=40, description="%p: who sent it")] = None,
    to: Annotated[str | None, Query(max_length=40, description="%P: our number or short code")] = None,
    text: Annotated[str | None, Query(max_length=MAX_TEXT, description="%a: the message")] = None,
    ts: Annotated[str | None, Query(max_length=20, description="%T: Unix time")] = None,
    id: Annotated[str | None, Query(max_length=200, description="%I: Kannel's id of the message")] = None,
) -> PlainTextResponse:
    """Kannel's sms-service get-url: `?from=%p&to=%P&text=%a&ts=%T&id=%I`. The answer is empty, so (with
    `omit-empty = true`) Kannel sends no reply SMS."""
    sender = await sender_for(resolve, metrics, token, Provider.KANNEL)
    message = InboundMessage(
        channel=Channel.SMS,
        phone=phone_of(sender_number, "from"),
        body=text_of(text),
        provider=Provider.KANNEL.value,
        provider_message_id=clip(id),
        received_at=unix_time(ts),
    )
    await record(sender, [message])
    return PlainTextResponse("")


# --- the aggregator (Africa's Talking's callbacks) --------------------------------------------------------------


@router.post("/aggregator/{token}/receipts", responses=callback_responses(401, 422, 503))
async def aggregator_receipts(
    token: Token,
    request: Request,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record: Annotated[RecordReceipts, use(RecordReceipts)],
) -> CallbackAck:
    """The delivery report callback: a form with id, status, phoneNumber, networkCode, failureReason, retryCount."""
    sender = await sender_for(resolve, metrics, token, Provider.AGGREGATOR)
    try:
        receipt = aggregator_receipt(await form_of(request))
    except (UnreadableReceipt, UnreadableCallback) as exc:
        rejected(metrics, Provider.AGGREGATOR, "unreadable")
        raise UnreadableCallback(str(exc)) from exc
    return CallbackAck(outcomes=[o.value for o in await record(sender, [receipt])])


@router.post("/aggregator/{token}/inbound", responses=callback_responses(401, 422, 503))
async def aggregator_inbound(
    token: Token,
    request: Request,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record: Annotated[RecordInbound, use(RecordInbound)],
) -> CallbackAck:
    """The incoming messages callback: a form with from, to, text, date, id, linkId."""
    sender = await sender_for(resolve, metrics, token, Provider.AGGREGATOR)
    form = await form_of(request)
    message = InboundMessage(
        channel=Channel.SMS,
        phone=phone_of(form.get("from"), "from"),
        body=text_of(form.get("text")),
        provider=Provider.AGGREGATOR.value,
        provider_message_id=clip(form.get("id")),
        received_at=aggregator_time(form.get("date")),
    )
    return CallbackAck(inbound_stored=await record(sender, [message]))


@router.post("/aggregator/{token}/opt-outs", responses=callback_responses(401, 422, 503))
async def aggregator_opt_outs(
    token: Token,
    request: Request,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record: Annotated[RecordOptOut, use(RecordOptOut)],
) -> CallbackAck:
    """The bulk SMS opt-out callback: a form with senderId and phoneNumber; the phone is suppressed on SMS."""
    sender = await sender_for(resolve, metrics, token, Provider.AGGREGATOR)
    phone = phone_of((await form_of(request)).get("phoneNumber"), "phoneNumber")
    return CallbackAck(suppressed=int(await record(sender, phone)))


# --- WhatsApp Cloud API webhook -----------------------------------------------------------------------------------


class WaError(BaseModel):
    code: int | None = None
    title: str | None = None


class WaStatus(BaseModel):
    id: str
    status: str
    timestamp: str | None = None
    errors: list[WaError] = Field(default_factory=list)


class WaText(BaseModel):
    body: str = ""


class WaMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    sender: str = Field(alias="from")
    id: str
    timestamp: str | None = None
    type: str
    text: WaText | None = None


class WaMetadata(BaseModel):
    phone_number_id: str


class WaValue(BaseModel):
    metadata: WaMetadata | None = None
    statuses: list[WaStatus] = Field(default_factory=list)
    messages: list[WaMessage] = Field(default_factory=list)


class WaChange(BaseModel):
    field: str = "messages"
    value: WaValue


class WaEntry(BaseModel):
    changes: list[WaChange] = Field(default_factory=list)


class WaNotification(BaseModel):
    object: str = "whatsapp_business_account"
    entry: list[WaEntry] = Field(default_factory=list)


@router.get("/whatsapp/webhook", response_model=None, responses=PLAIN_TEXT | callback_responses(403, 404, 422, 503))
async def whatsapp_verify(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=40)] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token", max_length=200)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=200)] = None,
) -> PlainTextResponse:
    """Meta's subscription check: answers hub.challenge when hub.verify_token is WHATSAPP_VERIFY_TOKEN."""
    expected = settings_of(request).whatsapp_verify_token
    if expected is None:
        raise WebhookNotConfigured("the WhatsApp webhook is not configured: set WHATSAPP_VERIFY_TOKEN")
    if (
        mode != "subscribe"
        or verify_token is None
        or not hmac.compare_digest(verify_token.encode(), expected.get_secret_value().encode())
    ):
        raise Forbidden(["hub.verify_token"])
    return PlainTextResponse(challenge or "")


@router.post("/whatsapp/webhook", responses=callback_responses(401, 403, 404, 422, 503))
async def whatsapp_notifications(
    request: Request,
    metrics: MetricsDep,
    resolve: Annotated[ResolveSender, use(ResolveSender)],
    record_receipts: Annotated[RecordReceipts, use(RecordReceipts)],
    record_inbound: Annotated[RecordInbound, use(RecordInbound)],
) -> CallbackAck:
    """Statuses (sent, delivered, read, failed) and messages of the WhatsApp Business Account, signed by Meta
    (X-Hub-Signature-256); routed to the account whose WhatsApp sender's address is metadata.phone_number_id."""
    secret = settings_of(request).whatsapp_app_secret
    if secret is None:
        raise WebhookNotConfigured("the WhatsApp webhook is not configured: set WHATSAPP_APP_SECRET")
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    if not signature:
        rejected(metrics, Provider.WHATSAPP, "unsigned")
        raise CallbackUnauthenticated("X-Hub-Signature-256 is required")
    if not signature_matches(secret.get_secret_value(), body, signature):
        rejected(metrics, Provider.WHATSAPP, "bad_signature")
        raise BadSignature()
    try:
        notification = WaNotification.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        rejected(metrics, Provider.WHATSAPP, "unreadable")
        raise UnreadableCallback("the body is not a WhatsApp Cloud API webhook notification") from exc
    ack = CallbackAck()
    for entry in notification.entry:
        for change in entry.changes:
            if change.field != "messages" or change.value.metadata is None:
                continue
            ack = await whatsapp_change(change.value, ack, metrics, resolve, record_receipts, record_inbound)
    return ack


async def whatsapp_change(
    value: WaValue,
    ack: CallbackAck,
    metrics: MetricsDep,
    resolve: ResolveSender,
    record_receipts: RecordReceipts,
    record_inbound: RecordInbound,
) -> CallbackAck:
    """One change of a notification: its statuses and text messages, in the account of its phone number id."""
    assert value.metadata is not None
    sender = await resolve.by_phone_number_id(value.metadata.phone_number_id[:64])
    if sender is None:
        metrics.delivery_receipts_unmatched.labels(Provider.WHATSAPP.value).inc(len(value.statuses))
        log.info("whatsapp webhook for no known phone number id", extra={"statuses": len(value.statuses)})
        return ack
    receipts: list[Receipt] = []
    for status in value.statuses:
        error = status.errors[0] if status.errors else WaError()
        try:
            receipts.append(whatsapp_receipt(status.id, status.status, status.timestamp, error.code, error.title))
        except UnreadableReceipt:
            rejected(metrics, Provider.WHATSAPP, "unreadable")
    messages: list[InboundMessage] = []
    for message in value.messages:
        if message.type != "text" or message.text is None:
            metrics.inbound_messages.labels(Provider.WHATSAPP.value, "ignored").inc()
            continue
        try:
            phone = normalise_phone("+" + message.sender.lstrip("+"))
        except ValueError:
            rejected(metrics, Provider.WHATSAPP, "unreadable")
            continue
        messages.append(
            InboundMessage(
                channel=Channel.WHATSAPP,
                phone=phone,
                body=text_of(message.text.body),
                provider=Provider.WHATSAPP.value,
                provider_message_id=clip(message.id),
                received_at=unix_time(message.timestamp),
            )
        )
    outcomes = [o.value for o in await record_receipts(sender, receipts)] if receipts else []
    stored = await record_inbound(sender, messages) if messages else 0
    return CallbackAck(outcomes=ack.outcomes + outcomes, inbound_stored=ack.inbound_stored + stored)

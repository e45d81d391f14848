"""Delivery receipts: each provider's report mapped to delivered / undelivered / read, with its code and reason.

The tables here are the ones docs/channels.md prints: Kannel's DLR types (user guide, "Delivery Reports"), Africa's
Talking's delivery report callback (status and failureReason), and WhatsApp Cloud API's status webhook (sent,
delivered, read, failed with errors[].code and title). An intermediate report (queued on the SMSC, submitted,
sent) is stored but changes nothing on the message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from campaign_api.channels import Provider


class DeliveryStatus(StrEnum):
    """Mirrors outbound_messages_delivery_status_check."""

    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    READ = "read"


MAX_TEXT: Final = 200  # of a provider's reply or reason, as stored


@dataclass(frozen=True, slots=True)
class Receipt:
    """One delivery report, mapped; `delivery_status` None for an intermediate one."""

    provider: Provider
    provider_message_id: str
    provider_status: str
    delivery_status: DeliveryStatus | None
    code: str | None = None
    reason: str | None = None
    occurred_at: datetime | None = None


class UnreadableReceipt(ValueError):
    """The callback's fields are not a receipt of that provider (answered 400, never 500)."""


# Kannel's dlr-mask bits, which are also the %d values of a report (user guide, "Delivery Reports")
KANNEL_TYPES: Final[Mapping[int, tuple[DeliveryStatus | None, str]]] = {
    1: (DeliveryStatus.DELIVERED, "delivered to the phone"),
    2: (DeliveryStatus.UNDELIVERED, "not delivered to the phone"),
    4: (None, "queued on the SMSC"),
    8: (None, "accepted by the SMSC"),
    16: (DeliveryStatus.UNDELIVERED, "rejected by the SMSC"),
}

# Africa's Talking's delivery report `status` values
AGGREGATOR_STATUSES: Final[Mapping[str, DeliveryStatus | None]] = {
    "Success": DeliveryStatus.DELIVERED,
    "Failed": DeliveryStatus.UNDELIVERED,
    "Rejected": DeliveryStatus.UNDELIVERED,
    "Sent": None,
    "Submitted": None,
    "Buffered": None,
}
# its `failureReason` values, worded for an operator
AGGREGATOR_FAILURES: Final[Mapping[str, str]] = {
    "InsufficientCredit": "the subscriber has too little airtime for the premium message",
    "InvalidLinkId": "the premium message's linkId is invalid or expired",
    "UserIsInactive": "the subscriber is inactive or deactivated by the network",
    "UserInBlackList": "the subscriber is blacklisted from this service (short code or keyword)",
    "UserAccountSuspended": "the subscriber's line is suspended",
    "NotNetworkSubscriber": "the number does not belong to the network",
    "UserNotSubscribedToProduct": "the subscriber is not subscribed to the premium product",
    "UserDoesNotExist": "the number does not exist",
    "DeliveryFailure": "the network could not deliver it",
    "DoNotDisturbRejection": "the subscriber's do-not-disturb setting refused it",
}

# WhatsApp Cloud API's statuses[].status values
WHATSAPP_STATUSES: Final[Mapping[str, DeliveryStatus | None]] = {
    "sent": None,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.UNDELIVERED,
}


def clip(text: str | None) -> str | None:
    """A provider's free text, bounded, without NUL; None when empty."""
    if text is None:
        return None
    cleaned = text.replace("\x00", "").strip()[:MAX_TEXT]
    return cleaned or None


def unix_time(value: str | None) -> datetime | None:
    """A Unix timestamp in seconds (Kannel's %T, WhatsApp's timestamp); None when absent or unreadable."""
    if value is None or not value.strip().isdigit():
        return None
    seconds = int(value.strip())
    if not 0 < seconds < 2**33:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def kannel_receipt(message_id: str | None, dlr_type: str | None, reply: str | None, ts: str | None) -> Receipt:
    """Kannel's dlr-url call: our outbound message id, %d, %A and %T."""
    if message_id is None or not message_id.isdigit() or len(message_id) > 18:
        raise UnreadableReceipt("message_id: our outbound message id (digits) is required")
    if dlr_type is None or not dlr_type.strip().isdigit() or int(dlr_type) not in KANNEL_TYPES:
        raise UnreadableReceipt(f"type: one of {', '.join(str(t) for t in KANNEL_TYPES)} (Kannel's %d) is required")
    kind = int(dlr_type)
    status, meaning = KANNEL_TYPES[kind]
    return Receipt(
        provider=Provider.KANNEL,
        provider_message_id=str(int(message_id)),
        provider_status=str(kind),
        delivery_status=status,
        code=str(kind),
        reason=clip(reply) or meaning,
        occurred_at=unix_time(ts),
    )


def aggregator_receipt(form: Mapping[str, str]) -> Receipt:
    """Africa's Talking's delivery report (POST form: id, status, phoneNumber, networkCode, failureReason,
    retryCount). The phone is not kept: the message's row already has its customer."""
    message_id = clip(form.get("id"))
    status = (form.get("status") or "").strip()
    if message_id is None:
        raise UnreadableReceipt("id: the provider's message id is required")
    if status not in AGGREGATOR_STATUSES:
        raise UnreadableReceipt(f"status: one of {', '.join(AGGREGATOR_STATUSES)} is required")
    failure = clip(form.get("failureReason"))
    return Receipt(
        provider=Provider.AGGREGATOR,
        provider_message_id=message_id,
        provider_status=status,
        delivery_status=AGGREGATOR_STATUSES[status],
        code=failure or status,
        reason=AGGREGATOR_FAILURES.get(failure, failure) if failure else None,
    )


def whatsapp_receipt(
    message_id: str, status: str, timestamp: str | None, error_code: int | None, error_title: str | None
) -> Receipt:
    """One entry of a WhatsApp webhook's statuses[]."""
    if status not in WHATSAPP_STATUSES:
        raise UnreadableReceipt(f"statuses[].status: one of {', '.join(WHATSAPP_STATUSES)}")
    if not (cleaned := clip(message_id)):
        raise UnreadableReceipt("statuses[].id: the message's wamid is required")
    return Receipt(
        provider=Provider.WHATSAPP,
        provider_message_id=cleaned,
        provider_status=status,
        delivery_status=WHATSAPP_STATUSES[status],
        code=None if error_code is None else str(error_code),
        reason=clip(error_title),
        occurred_at=unix_time(timestamp),
    )


def signature_matches(app_secret: str, body: bytes, header: str) -> bool:
    """Meta's X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the raw body under the app secret."""
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())

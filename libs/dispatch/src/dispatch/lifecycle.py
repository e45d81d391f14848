"""The message lifecycle's vocabulary, declared once: each enum mirrors a CHECK constraint of the schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


class Channel(StrEnum):
    """Mirrors campaigns_channel_check."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


class MessageStatus(StrEnum):
    """Mirrors outbound_messages_status_check: pending → sending → sent | failed (sending → pending on a retry).

    A message that is never attempted ends in a terminal status of its own, never counted as failed: suppressed
    (its recipient opted out), expired (not sent within its campaign's validity), cancelled (its campaign was).
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Category(StrEnum):
    """Mirrors campaigns_category_check: promotional messages obey send windows; transactional ones do not."""

    PROMOTIONAL = "promotional"
    TRANSACTIONAL = "transactional"


# a campaign is complete when none of its messages is in one of these
IN_FLIGHT: Final = frozenset({MessageStatus.PENDING, MessageStatus.SENDING})
TERMINAL: Final = frozenset(MessageStatus) - IN_FLIGHT


class DeadLetterReason(StrEnum):
    """Why a job went to the DLQ: the fixed label set of dispatch_messages_dead_lettered_total."""

    POISON = "poison"
    EXHAUSTED = "exhausted"
    INVALID_TEMPLATE = "invalid_template"
    REJECTED = "rejected"  # the provider refused the message for good (invalid number, destination, credit)


@dataclass(frozen=True, slots=True)
class Recipient:
    """The customer fields a template may use, loaded with the message it belongs to."""

    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None
    # the customer's custom attributes (declared per account), usable as {name} in the template
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SenderRow:
    """One row of the senders table, as the worker needs it."""

    id: int
    channel: Channel
    provider: str
    address: str
    credentials_ref: str | None
    throughput_per_s: float
    callback_token: str
    whatsapp_template: str | None = None
    whatsapp_template_language: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimChecks:
    """What the worker judges a claimed message by before it is attempted, loaded by the claim statement itself:
    its campaign's status (read under the claim's share lock: paused or cancelled holds it back) and the
    compliance facts (suppression, category, validity, the customer's zone, the account's send window and the
    sender's), and
    the sender it goes through: the campaign's own, else its account's default for the channel (None: neither, the
    platform's configured sender)."""

    campaign_status: str
    category: Category
    expires_at: datetime
    validity_hours: int
    customer_time_zone: str | None
    window_start: time | None
    window_end: time | None
    window_time_zone: str | None
    sender_window_start: time | None
    sender_window_end: time | None
    sender_window_time_zone: str | None
    suppressed: bool
    sender: SenderRow | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message a worker now holds (status sending), with what rendering and sending need."""

    id: int
    campaign_id: int
    channel: Channel
    template: str
    retry_count: int
    recipient: Recipient
    # None when built without the claim (tests): the checks then load what they need themselves
    checks: ClaimChecks | None = None


@dataclass(frozen=True, slots=True)
class UnpublishedMessage:
    """An outbox row the relay is about to publish; a transactional campaign's goes in the priority lane."""

    id: int
    traceparent: str | None
    transactional: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to, as the worker records it: the text sent (None when never rendered), and for an
    accepted message the provider that took it and the id it gave (None when it gives none), the sender it went
    through (None: the platform's configured sender) and what the provider charged, when it says."""

    message_id: int
    text: str | None
    segments: int | None = None
    error: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    sender_id: int | None = None
    cost: Decimal | None = None
    cost_currency: str | None = None

"""Pure values of the dispatch worker: statuses, jobs, the retry policy, what is sent and its outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class MessageStatus(StrEnum):
    """Mirrors outbound_messages_status_check."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Channel(StrEnum):
    """Mirrors campaigns_channel_check."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


class DeadLetterReason(StrEnum):
    """Why a job went to the DLQ: the fixed label set of dispatch_messages_dead_lettered_total."""

    POISON = "poison"
    EXHAUSTED = "exhausted"
    INVALID_TEMPLATE = "invalid_template"


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery taken from the queue: the message it names (None when unparseable) and its delivery facts."""

    delivery_id: int
    outbound_message_id: int | None
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    redelivered: bool = False
    poison_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """One attempt plus len(delays_s) retries, each waiting in its own TTL tier."""

    delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)

    @property
    def max_retries(self) -> int:
        """How many retries follow the first attempt."""
        return len(self.delays_s)

    def next_tier(self, retry_count: int) -> int | None:
        """The tier (1-based) a message that failed with `retry_count` retries so far waits in; None: give up."""
        return retry_count + 1 if retry_count < self.max_retries else None


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer fields templates may use."""

    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message this worker now holds (status sending), with what rendering and sending need."""

    id: int
    campaign_id: int
    channel: Channel
    template: str
    retry_count: int
    customer: Customer


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A rendered message ready for the sender."""

    id: int
    channel: Channel
    phone: str
    text: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The sender's answer: delivered, or the error it gave."""

    ok: bool
    error: str | None = None

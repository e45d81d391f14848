"""Pure values of the dispatch worker: jobs, the retry policy, what is rendered and sent, and the sender's answer.

The message lifecycle's statuses and the claimed message itself belong to the dispatch package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from dispatch.lifecycle import Channel


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery taken from the queue: the message it names (None when unparseable) and its delivery facts."""

    delivery_id: int
    outbound_message_id: int | None
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    redelivered: bool = False
    poison_reason: str | None = None


class GateVerdict(StrEnum):
    """What the compliance gate did with a claimed message (the `decision` label of its counter)."""

    ALLOWED = "allowed"  # on to rendering and the sender
    SUPPRESSED = "suppressed"  # its recipient opted out: ended suppressed
    EXPIRED = "expired"  # past its validity, or no window opens before it: ended expired
    DEFERRED_WINDOW = "deferred_window"  # a send window is closed: back to the outbox until it opens


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
class Rendered:
    """One customer's text as template-svc rendered it, the SMS segments it takes (1 on WhatsApp), and whether
    it needs UCS-2 (a character outside GSM 03.38)."""

    text: str
    segments: int
    ucs2: bool = False


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A rendered message ready for the sender."""

    id: int
    channel: Channel
    phone: str
    text: str
    ucs2: bool = False
    # WhatsApp: the customer wrote to us in the last 24 hours, so free text may go; otherwise only a template
    service_window_open: bool = False


class SendStatus(StrEnum):
    """What the provider made of one message, by class; each adapter maps its provider's codes to these."""

    ACCEPTED = "accepted"  # the provider took it: the message is sent
    TRANSIENT = "transient"  # it may work later: spend a retry, wait in the next tier
    PERMANENT = "permanent"  # it can never work (invalid or blocked number, destination, credit): failed at once
    THROTTLED = "throttled"  # the provider asks to slow down: wait and send again, no retry spent


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The sender's answer: its class, the provider's message id (and cost, when it reports one) when accepted,
    else the provider's error."""

    status: SendStatus
    provider_message_id: str | None = None
    error: str | None = None
    cost: Decimal | None = None
    cost_currency: str | None = None  # ISO 4217, e.g. "KES"

    @classmethod
    def accepted(
        cls, provider_message_id: str | None = None, cost: Decimal | None = None, cost_currency: str | None = None
    ) -> SendOutcome:
        """The provider took the message, naming it `provider_message_id` and charging `cost` when it says."""
        return cls(SendStatus.ACCEPTED, provider_message_id, cost=cost, cost_currency=cost_currency)

    @classmethod
    def transient(cls, error: str) -> SendOutcome:
        """A failure a later attempt may not meet (network, provider hiccup)."""
        return cls(SendStatus.TRANSIENT, error=error)

    @classmethod
    def permanent(cls, error: str) -> SendOutcome:
        """A refusal no retry can change."""
        return cls(SendStatus.PERMANENT, error=error)

    @classmethod
    def throttled(cls, error: str) -> SendOutcome:
        """The provider asks to slow down."""
        return cls(SendStatus.THROTTLED, error=error)

    @property
    def ok(self) -> bool:
        """The provider accepted the message."""
        return self.status is SendStatus.ACCEPTED

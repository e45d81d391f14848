"""Pure values of the dispatch worker: jobs, the retry policy, what is rendered and sent, and the sender's answer.

The message lifecycle's statuses and the claimed message itself belong to the dispatch package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    """One customer's text as template-svc rendered it, and the SMS segments it takes (1 on WhatsApp)."""

    text: str
    segments: int


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

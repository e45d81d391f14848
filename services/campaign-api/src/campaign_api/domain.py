"""The campaign domain: the Campaign aggregate and its state machine, statuses mirroring CHECKs, values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Final, Generic, Protocol, TypeVar

from dispatch.lifecycle import Category, Channel

from campaign_api.errors import (
    AudienceEmpty,
    AudienceRequired,
    CampaignNotCancellable,
    CampaignNotEditable,
    CampaignNotPausable,
    CampaignNotResumable,
    CampaignNotRetryable,
    CampaignNotSendable,
    ScheduledAtInPast,
)


class HasId(Protocol):
    """A row with a keyset id."""

    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=HasId)


class CampaignStatus(StrEnum):
    """Mirrors campaigns_status_check."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


# a campaign may be sent, and edited, only while nothing of it has gone out
SENDABLE: Final = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
EDITABLE: Final = SENDABLE
# the operator controls: a campaign in flight may be paused or cancelled; one that sent may send its failures again
STOPPABLE: Final = frozenset({CampaignStatus.SENDING, CampaignStatus.PAUSED})
COMPLETED: Final = frozenset({CampaignStatus.SENT, CampaignStatus.FAILED})
RETRYABLE: Final = STOPPABLE | COMPLETED


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign as the listing shows it."""

    id: int
    name: str
    channel: Channel
    status: CampaignStatus
    created_at: datetime
    category: Category = Category.PROMOTIONAL


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """Message counts of one campaign by status."""

    total: int
    pending: int
    sending: int
    sent: int
    failed: int
    # the spec's five counts above; the messages that were never attempted, each counted apart (never as failed)
    suppressed: int = 0
    expired: int = 0
    cancelled: int = 0
    # from delivery receipts (real channels): a read message was delivered too, so `delivered` counts it
    delivered: int = 0
    undelivered: int = 0
    read: int = 0

    @classmethod
    def of(cls, by_status: Mapping[str, int]) -> CampaignStats:
        """From the campaign's counters: total counts every message status (keys without a colon), the named
        fields theirs (0 when absent); 'delivery:<status>' counts the last receipts (a read message was delivered)."""
        statuses = {k: n for k, n in by_status.items() if ":" not in k and k != "segments"}
        read = by_status.get("delivery:read", 0)
        return cls(
            total=sum(statuses.values()),
            pending=statuses.get("pending", 0),
            sending=statuses.get("sending", 0),
            sent=statuses.get("sent", 0),
            failed=statuses.get("failed", 0),
            suppressed=statuses.get("suppressed", 0),
            expired=statuses.get("expired", 0),
            cancelled=statuses.get("cancelled", 0),
            delivered=by_status.get("delivery:delivered", 0) + read,
            undelivered=by_status.get("delivery:undelivered", 0),
            read=read,
        )


@dataclass(frozen=True, slots=True)
class CampaignCost:
    """What the provider charged for a campaign's messages, in one currency."""

    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CampaignUsage:
    """A campaign's segments as sent (template-svc's count per message) and its cost per currency."""

    segments: int = 0
    cost: tuple[CampaignCost, ...] = ()

    @classmethod
    def of(cls, counted: Mapping[str, int]) -> CampaignUsage:
        """From the campaign's counters: 'segments', and 'cost:<currency>' in 1/10,000 units."""
        cost = tuple(
            CampaignCost(key.removeprefix("cost:"), Decimal(n).scaleb(-4))
            for key, n in sorted(counted.items())
            if key.startswith("cost:") and n
        )
        return cls(counted.get("segments", 0), cost)


# how long after its send a campaign's messages may still go out, unless the campaign says otherwise
DEFAULT_VALIDITY_HOURS: Final = 24


@dataclass(frozen=True, slots=True)
class Waiting:
    """A campaign's messages that wait in the outbox for a send window to open: how many, and the last opening."""

    count: int
    until: datetime | None


@dataclass(frozen=True, slots=True)
class ExpansionProgress:
    """An accepted send's message creation: the audience at acceptance, how many messages exist, whether done."""

    audience_size: int
    created: int
    finished: bool


@dataclass(slots=True)
class Campaign:
    """The campaign aggregate: its fields and the state machine every use case goes through.

    draft ⇄ scheduled (by scheduled_at) → sending → sent | failed; a due scheduled campaign that can never be sent
    → failed with a status_reason. An operator pauses (sending ⇄ paused), cancels (sending | paused → cancelled)
    and sends failures again (sent | failed → sending). Methods decide and raise the domain error; use cases
    load, call, save.
    """

    id: int
    name: str
    channel: Channel
    status: CampaignStatus
    base_template: str
    scheduled_at: datetime | None
    created_at: datetime
    audience: Audience | None = None
    stats: CampaignStats | None = None
    status_reason: str | None = None
    # the sender it goes out through; None: the account's default for the channel, else the platform's sender
    sender_id: int | None = None
    usage: CampaignUsage | None = None
    category: Category = Category.PROMOTIONAL
    validity_hours: int = DEFAULT_VALIDITY_HOURS
    waiting: Waiting | None = None
    expansion: ExpansionProgress | None = None

    def is_due(self, now: datetime) -> bool:
        """A scheduled campaign whose time has come."""
        return self.status == CampaignStatus.SCHEDULED and self.scheduled_at is not None and self.scheduled_at <= now

    def audience_to_send(self, customer_ids: Sequence[int] | None) -> Sequence[int] | Segment | SavedSegmentRef:
        """Who a send goes to: the ids given, else the stored audience; only a draft or scheduled campaign sends."""
        if self.status not in SENDABLE:
            raise CampaignNotSendable(self.id, self.status)
        if customer_ids is not None:
            return customer_ids
        if self.audience is None:
            raise AudienceRequired(self.id)
        if self.audience.segment_id is not None:
            return SavedSegmentRef(self.audience.segment_id)
        if self.audience.segment is not None:
            return self.audience.segment
        assert self.audience.customer_ids is not None  # an audience is ids or a segment
        return self.audience.customer_ids

    def send(self, queued: int) -> None:
        """Move to sending once its messages exist; with none, refuse, or it would stay sending forever."""
        if self.status not in SENDABLE:
            raise CampaignNotSendable(self.id, self.status)
        if queued == 0:
            raise AudienceEmpty(self.id)
        self.status = CampaignStatus.SENDING

    def fail_due(self, reason: str, now: datetime) -> bool:
        """Fail a due campaign that cannot be sent, recording why, so it is not offered on every tick again."""
        if not self.is_due(now):
            return False
        self.status, self.status_reason = CampaignStatus.FAILED, reason
        return True

    def cancel(self) -> None:
        """Take a scheduled campaign off the schedule (a draft has no time, so scheduled_at is cleared); end a
        sending or paused one for good: cancelled, its messages not yet attempted never are."""
        if self.status == CampaignStatus.SCHEDULED:
            self.status, self.scheduled_at = CampaignStatus.DRAFT, None
        elif self.status in STOPPABLE:
            self.status = CampaignStatus.CANCELLED
        else:
            raise CampaignNotCancellable(self.id, self.status)

    def pause(self) -> None:
        """Stop new attempts of a sending campaign; its waiting messages stay pending until it is resumed."""
        if self.status != CampaignStatus.SENDING:
            raise CampaignNotPausable(self.id, self.status)
        self.status = CampaignStatus.PAUSED

    def resume(self) -> None:
        """Send a paused campaign's waiting messages again, from where it stopped."""
        if self.status != CampaignStatus.PAUSED:
            raise CampaignNotResumable(self.id, self.status)
        self.status = CampaignStatus.SENDING

    def check_retryable(self) -> None:
        """Only a campaign that sent has failures to send again; a cancelled one never sends again."""
        if self.status not in RETRYABLE:
            raise CampaignNotRetryable(self.id, self.status)

    def reopen(self) -> None:
        """Failures went back to the outbox: a completed campaign is sending again (a paused one stays paused)."""
        self.check_retryable()
        if self.status in COMPLETED:
            self.status = CampaignStatus.SENDING

    def apply(self, changes: CampaignChanges, now: datetime) -> None:
        """Change the fields given; a new scheduled_at (future) makes it scheduled, None makes it a draft."""
        if self.status not in EDITABLE:
            raise CampaignNotEditable(self.id, self.status)
        if not isinstance(changes.scheduled_at, Keep):
            self.status = initial_status(changes.scheduled_at, now)
            self.scheduled_at = changes.scheduled_at
        if not isinstance(changes.name, Keep):
            self.name = changes.name
        if not isinstance(changes.base_template, Keep):
            self.base_template = changes.base_template
        if not isinstance(changes.audience, Keep):
            self.audience = changes.audience
        if not isinstance(changes.sender_id, Keep):
            self.sender_id = changes.sender_id
        if not isinstance(changes.category, Keep):
            self.category = changes.category
        if not isinstance(changes.validity_hours, Keep):
            self.validity_hours = changes.validity_hours


def initial_status(scheduled_at: datetime | None, now: datetime) -> CampaignStatus:
    """A future time makes a campaign scheduled, none a draft; a past time is refused."""
    if scheduled_at is None:
        return CampaignStatus.DRAFT
    if scheduled_at <= now:
        raise ScheduledAtInPast(scheduled_at)
    return CampaignStatus.SCHEDULED


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """What creating a campaign needs."""

    name: str
    channel: Channel
    base_template: str
    scheduled_at: datetime | None
    audience: Audience | None = None
    sender_id: int | None = None
    category: Category = Category.PROMOTIONAL
    validity_hours: int = DEFAULT_VALIDITY_HOURS


class Keep(Enum):
    """Marks a field that a partial update leaves as it is (None means "clear it" where a field allows it)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True, slots=True)
class CampaignChanges:
    """A partial update of a draft or scheduled campaign: only the fields not KEEP change."""

    name: str | Keep = KEEP
    base_template: str | Keep = KEEP
    scheduled_at: datetime | Keep | None = KEEP
    audience: Audience | Keep | None = KEEP
    sender_id: int | Keep | None = KEEP
    category: Category | Keep = KEEP
    validity_hours: int | Keep = KEEP


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """One custom attribute's condition in a segment: equal to a value, one of values, or within a range (inclusive
    bounds; numbers for number attributes, YYYY-MM-DD for dates)."""

    name: str
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    min: Any = None
    max: Any = None


@dataclass(frozen=True, slots=True)
class Segment:
    """Customers chosen by their fields (ANDed, case-insensitive) and attributes; all_customers picks everybody."""

    all_customers: bool = False
    location: str | None = None
    preferred_product: str | None = None
    attributes: tuple[AttributeFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign goes to when it is sent without explicit ids: a list of ids or a segment."""

    customer_ids: tuple[int, ...] | None = None
    segment: Segment | None = None
    # a saved segment, resolved at send time (so the send reaches whoever it holds then)
    segment_id: int | None = None


@dataclass(frozen=True, slots=True)
class SavedSegmentRef:
    """A send's audience that names a saved segment."""

    id: int


@dataclass(frozen=True, slots=True)
class DueCampaign:
    """A scheduled campaign whose time has come."""

    id: int
    name: str
    scheduled_at: datetime


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer as stored; the phone is E.164."""

    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None
    created_at: datetime
    time_zone: str | None = None
    # custom attributes: values of the account's declared attributes, by name
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """What creating a customer needs; phone as the caller wrote it."""

    phone: str
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None
    time_zone: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CustomerChanges:
    """A partial update of a customer: only the fields not KEEP change (None clears); attributes given are merged
    (a None value removes that attribute)."""

    phone: str | Keep = KEEP
    first_name: str | Keep | None = KEEP
    last_name: str | Keep | None = KEEP
    location: str | Keep | None = KEEP
    preferred_product: str | Keep | None = KEEP
    time_zone: str | Keep | None = KEEP
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Offset paging inside an optional keyset bound (only ids below before_id)."""

    page: int
    page_size: int
    before_id: int | None = None

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, the count of the whole filtered set and the keyset cursor to the next page."""

    items: Sequence[T]
    request: PageRequest
    total_count: int
    next_cursor: int | None

    @classmethod
    def of(cls, items: Sequence[T], request: PageRequest, total_count: int) -> Page[T]:
        """A page whose cursor continues after its last row, or None on the last page."""
        more = bool(items) and request.offset + len(items) < total_count
        return cls(items, request, total_count, items[-1].id if more else None)

    @property
    def total_pages(self) -> int:
        """Pages the filtered set spans."""
        return math.ceil(self.total_count / self.request.page_size)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """How a rendered message measures on its channel."""

    encoding: str
    characters: int
    segments: int
    violations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A template rendered for one customer."""

    text: str
    facts: MessageFacts


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """The first thing wrong with a template, as template-svc reports it."""

    code: str
    message: str
    position: int
    placeholder: str


@dataclass(frozen=True, slots=True)
class Preview:
    """A campaign's message rendered for one customer."""

    rendered: RenderedMessage
    used_template: str
    customer: Customer


@dataclass(frozen=True, slots=True)
class SegmentEstimate:
    """The SMS segments a send is expected to take, from its messages rendered for a sample of its customers.

    `per_message` is the most any sampled message takes; `total` is the sampled messages' mean times the messages
    queued, rounded up (exact when every message was sampled); `sampled` is how many were rendered. Unknown (None)
    when template-svc did not answer in time: the send goes on without the figure.
    """

    per_message: int | None
    total: int | None
    sampled: int

    @classmethod
    def of(cls, segments: Sequence[int], queued: int) -> SegmentEstimate:
        """The estimate from the sampled messages' segment counts, for `queued` messages in all."""
        if not segments:
            return cls(None, None, 0)
        return cls(max(segments), math.ceil(sum(segments) * queued / len(segments)), len(segments))

    @classmethod
    def one_each(cls, queued: int) -> SegmentEstimate:
        """WhatsApp: no SMS segments; every message counts 1 (against the sender's limit too)."""
        return cls(1, queued, 0)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The answer to a send: the first one again when an Idempotency-Key is replayed."""

    campaign_id: int
    messages_queued: int
    status: CampaignStatus
    channel: Channel
    replayed: bool = False
    # customers the send left out because they opted out
    suppressed: int = 0
    segments: SegmentEstimate = SegmentEstimate(None, None, 0)

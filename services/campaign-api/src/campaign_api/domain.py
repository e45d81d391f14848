"""Values of the campaign domain: statuses mirroring the schema's CHECK constraints, and frozen records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Final, Generic, TypeVar

T = TypeVar("T")


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


SENDABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
# what PATCH /campaigns/{id} may change: nothing has been sent yet
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign as the listing shows it."""

    id: int
    name: str
    channel: Channel
    status: CampaignStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """Message counts of one campaign by status."""

    total: int
    pending: int
    sending: int
    sent: int
    failed: int


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign with everything the detail view shows."""

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


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """What creating a campaign needs."""

    name: str
    channel: Channel
    base_template: str
    scheduled_at: datetime | None
    audience: Audience | None = None


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


@dataclass(frozen=True, slots=True)
class Segment:
    """Customers chosen by their fields (ANDed, case-insensitive); all_customers picks everybody."""

    all_customers: bool = False
    location: str | None = None
    preferred_product: str | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign goes to when it is sent without explicit ids: a list of ids or a segment."""

    customer_ids: tuple[int, ...] | None = None
    segment: Segment | None = None


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


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """What creating a customer needs; phone as the caller wrote it."""

    phone: str
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None


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
class SendOutcome:
    """The answer to a send: the first one again when an Idempotency-Key is replayed."""

    campaign_id: int
    messages_queued: int
    status: CampaignStatus
    channel: Channel
    replayed: bool = False

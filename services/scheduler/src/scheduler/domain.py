"""What the scheduler knows about campaigns and ticks: plain values, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DispatchOutcome(StrEnum):
    """How campaign-api answered a send the scheduler triggered."""

    DISPATCHED = "dispatched"  # 202: this call moved the campaign to sending
    ALREADY_DISPATCHED = "already_dispatched"  # 409: another replica sent it first, or it was cancelled
    AUDIENCE_REQUIRED = "audience_required"  # 422: no stored audience; the API marked the campaign failed
    GONE = "gone"  # 404: deleted after it was listed
    REJECTED = "rejected"  # another 4xx: the campaign itself is bad; the API failed it, retrying cannot help


class ErrorKind(StrEnum):
    """The label values of scheduler_errors_total: a fixed, small set."""

    UNAVAILABLE = "unavailable"  # connection refused, timeout or 5xx: retried on the next tick
    UNEXPECTED_RESPONSE = "unexpected_response"  # an answer outside the contract: retried on the next tick
    AUDIENCE_REQUIRED = "audience_required"  # a due campaign had no audience: the API failed it
    REJECTED = "rejected"  # the API refused a due campaign for a reason of its own (4xx): not retried as an outage
    INTERNAL = "internal"  # a bug in the scheduler itself


@dataclass(frozen=True, slots=True)
class DueCampaign:
    """A scheduled campaign whose scheduled_at has passed, as the due listing reports it."""

    id: int
    name: str
    scheduled_at: datetime  # timezone-aware

    @property
    def idempotency_key(self) -> str:
        """Name this scheduled send: replicas share it, and a rescheduled campaign gets a new one."""
        return f"scheduled-{self.id}-{math.floor(self.scheduled_at.timestamp())}"


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """campaign-api's answer to one send."""

    outcome: DispatchOutcome
    messages_queued: int = 0


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A campaign this scheduler dispatched, and how late after scheduled_at."""

    campaign_id: int
    messages_queued: int
    lag_s: float


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that went wrong in a tick; campaign_id is None when the due listing itself failed."""

    campaign_id: int | None
    kind: ErrorKind


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did, campaign by campaign."""

    finished_at: datetime
    listing_answered: bool  # False: campaign-api did not list the due campaigns, nothing was tried
    dispatched: tuple[Dispatch, ...] = ()
    already_dispatched: tuple[int, ...] = ()
    audience_required: tuple[int, ...] = ()
    gone: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    not_yet_due: tuple[int, ...] = ()  # listed, but in the future by this scheduler's clock
    failures: tuple[Failure, ...] = ()

    @property
    def dispatched_ids(self) -> tuple[int, ...]:
        """The ids of the campaigns this tick dispatched."""
        return tuple(d.campaign_id for d in self.dispatched)

    @property
    def failed_ids(self) -> tuple[int, ...]:
        """The campaigns left due for the next tick because their send failed."""
        return tuple(f.campaign_id for f in self.failures if f.campaign_id is not None)

"""In-memory stand-ins for the scheduler's ports: same Protocols, no inheritance."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scheduler.domain import DispatchOutcome, DispatchResult, DueCampaign, TickReport
from scheduler.errors import SchedulerError


@dataclass
class ManualClock:
    """A clock that moves only when the test says so."""

    now: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeCampaign:
    """A campaign as the fake API stores it."""

    id: int
    scheduled_at: datetime
    status: str = "scheduled"
    has_audience: bool = True
    audience_size: int = 3


@dataclass
class FakeCampaignApi:
    """campaign-api's scheduling contract over a dict, on the test's clock."""

    clock: ManualClock
    campaigns: dict[int, FakeCampaign] = field(default_factory=dict)
    sends: list[tuple[int, str]] = field(default_factory=list)  # (campaign id, idempotency key) per call
    failing_sends: dict[int, SchedulerError] = field(default_factory=dict)  # raised instead of answering
    listing_failure: SchedulerError | None = None
    clock_ahead_s: float = 0.0  # the API host's clock minus the scheduler's
    deleted_after_listing: set[int] = field(default_factory=set)
    listings: int = 0
    send_gate: asyncio.Event | None = None  # when set, sends wait for it (a slow send)

    def add(self, campaign_id: int, scheduled_in_s: float, *, has_audience: bool = True) -> FakeCampaign:
        """Store a scheduled campaign due scheduled_in_s from now (negative: already due)."""
        scheduled_at = self.clock() + timedelta(seconds=scheduled_in_s)
        campaign = FakeCampaign(campaign_id, scheduled_at, has_audience=has_audience)
        self.campaigns[campaign_id] = campaign
        return campaign

    async def list_due(self, limit: int) -> Sequence[DueCampaign]:
        self.listings += 1
        if self.listing_failure is not None:
            raise self.listing_failure
        api_now = self.clock() + timedelta(seconds=self.clock_ahead_s)
        due = sorted(
            (c for c in self.campaigns.values() if c.status == "scheduled" and c.scheduled_at <= api_now),
            key=lambda c: (c.scheduled_at, c.id),
        )[:limit]
        listed = [DueCampaign(c.id, f"campaign {c.id}", c.scheduled_at) for c in due]
        for campaign_id in self.deleted_after_listing:
            self.campaigns.pop(campaign_id, None)
        return listed

    async def dispatch(self, campaign: DueCampaign) -> DispatchResult:
        self.sends.append((campaign.id, campaign.idempotency_key))
        if self.send_gate is not None:
            await self.send_gate.wait()
        if campaign.id in self.failing_sends:
            raise self.failing_sends[campaign.id]
        stored = self.campaigns.get(campaign.id)
        if stored is None:
            return DispatchResult(DispatchOutcome.GONE)
        if stored.status != "scheduled":
            return DispatchResult(DispatchOutcome.ALREADY_DISPATCHED)
        if not stored.has_audience:
            stored.status = "failed"
            return DispatchResult(DispatchOutcome.AUDIENCE_REQUIRED)
        stored.status = "sending"
        return DispatchResult(DispatchOutcome.DISPATCHED, stored.audience_size)


@dataclass
class RecordingTickRecorder:
    """Keeps every tick report instead of exporting it."""

    reports: list[TickReport] = field(default_factory=list)

    def record(self, report: TickReport) -> None:
        self.reports.append(report)

"""What the tick needs from the outside world; adapters fit these without inheriting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from scheduler.domain import DispatchResult, DueCampaign, TickReport

Clock = Callable[[], datetime]  # returns the current time, timezone-aware UTC


class CampaignApi(Protocol):
    """campaign-api's scheduling endpoints."""

    async def list_due(self, limit: int) -> Sequence[DueCampaign]:
        """Scheduled campaigns whose scheduled_at has passed, oldest first; raise SchedulerError on failure."""
        ...

    async def dispatch(self, campaign: DueCampaign) -> DispatchResult:
        """Send the campaign to its stored audience; raise SchedulerError when the outcome is unknown."""
        ...


class TickRecorder(Protocol):
    """Where a finished tick's figures go (Prometheus in production)."""

    def record(self, report: TickReport) -> None:
        """Count what the tick did."""
        ...

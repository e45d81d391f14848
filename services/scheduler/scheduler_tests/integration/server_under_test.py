"""The campaign-api the scenario tests run against, behind one Protocol so it can be swapped.

Two implementations: the contract server (below), which can also inject faults, and the real campaign-api
(tests/scheduling/real_campaign_api.py: campaigns created through POST /campaigns, state read through GET
/campaigns/{id}). Every scenario runs against each: here through conftest.py's SERVERS, there by importing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scheduler_tests.integration.contract_server import CONTRACT_KEY, ContractCampaignApi


class CampaignServer(Protocol):
    """What the scenario tests need from a campaign-api: a base URL, campaigns to schedule, their fate."""

    @property
    def base_url(self) -> str:
        """Where the scheduler should reach it."""
        ...

    @property
    def api_key(self) -> str:
        """The system key the scheduler must present."""
        ...

    async def create_scheduled(self, name: str, scheduled_at: datetime, *, with_audience: bool = True) -> int:
        """Create a scheduled campaign (scheduled_at may lie in the past: it fell due while nobody polled)."""
        ...

    async def status(self, campaign_id: int) -> str:
        """The campaign's status."""
        ...

    async def dispatch_count(self, campaign_id: int) -> int:
        """How many sends actually dispatched it (created its messages): 0 or 1, never more."""
        ...

    async def failure_reason(self, campaign_id: int) -> str | None:
        """The reason recorded when the API failed the campaign, if any."""
        ...


@dataclass(frozen=True, slots=True)
class ContractServer:
    """CampaignServer over the in-process contract server."""

    state: ContractCampaignApi
    base_url: str
    api_key: str = CONTRACT_KEY

    async def create_scheduled(self, name: str, scheduled_at: datetime, *, with_audience: bool = True) -> int:
        return self.state.add(name, scheduled_at, audience_size=3 if with_audience else None)

    async def status(self, campaign_id: int) -> str:
        return self.state.campaigns[campaign_id].status

    async def dispatch_count(self, campaign_id: int) -> int:
        return self.state.campaigns[campaign_id].dispatches

    async def failure_reason(self, campaign_id: int) -> str | None:
        return self.state.campaigns[campaign_id].failure_reason

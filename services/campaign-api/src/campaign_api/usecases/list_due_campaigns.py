"""The scheduled campaigns whose time has come (the scheduler's question)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.domain import DueCampaign
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class ListDueCampaigns:
    pool: Pool

    async def __call__(self, limit: int) -> list[DueCampaign]:
        """At most `limit` due campaigns, the longest-waiting first."""
        async with self.pool.connection() as conn:
            return await campaigns.list_due(conn, limit)

"""The scheduled campaigns whose time has come (the scheduler's question)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import DueCampaign
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListDueCampaigns:
    pool: Pool
    # the owner's cross-account pool: the scheduler's system key asks for every account's due campaigns
    system_pool: Pool

    async def __call__(self, caller: Caller, limit: int) -> list[DueCampaign]:
        """At most `limit` due campaigns, the longest-waiting first: the caller's account's, or every account's."""
        if caller.is_system:
            async with self.system_pool.connection() as conn:
                return await campaigns.list_due(conn, limit)
        async with account_transaction(self.pool, caller.account) as conn:
            return await campaigns.list_due(conn, limit)

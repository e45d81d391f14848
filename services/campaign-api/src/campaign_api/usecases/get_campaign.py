"""One campaign with its message statistics."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool, account_reading


@dataclass(frozen=True, slots=True)
class GetCampaign:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> Campaign:
        """The campaign and its counts by message status, computed by one SQL aggregate."""
        async with account_reading(self.pool, caller.account) as conn:
            campaign = await campaigns.get_with_stats(conn, campaign_id)
        if campaign is None:
            raise CampaignNotFound(campaign_id)
        return campaign

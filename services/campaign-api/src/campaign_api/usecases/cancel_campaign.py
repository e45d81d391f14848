"""Cancel a scheduled campaign: it goes back to draft and its scheduled_at is cleared."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class CancelCampaign:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> Campaign:
        """Move a scheduled campaign to draft under its row lock; 409 in any other status."""
        async with account_transaction(self.pool, caller.account) as conn:
            # the scheduler's send takes the same lock: whichever comes first wins, the other sees the new status
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            campaign.cancel()
            saved = await campaigns.save(conn, campaign)
            await audit_events.record(conn, caller, "campaign.cancelled", "campaign", campaign_id)
            return saved

"""Cancel a scheduled campaign: it goes back to draft and its scheduled_at is cleared."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from campaign_api.domain import Campaign, CampaignStatus
from campaign_api.errors import CampaignNotCancellable, CampaignNotFound
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class CancelCampaign:
    pool: Pool

    async def __call__(self, campaign_id: int) -> Campaign:
        """Move a scheduled campaign to draft under its row lock; 409 in any other status."""
        async with self.pool.connection() as conn, conn.transaction():
            # the scheduler's send takes the same lock: whichever comes first wins, the other sees the new status
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            if campaign.status != CampaignStatus.SCHEDULED:
                raise CampaignNotCancellable(campaign_id, campaign.status)
            # a draft has no time: keeping the old one would read as "still going out then"
            draft = dataclasses.replace(campaign, status=CampaignStatus.DRAFT, scheduled_at=None)
            return await campaigns.update_editable(conn, draft)

"""Pause a sending campaign: no new attempt starts; its waiting messages stay pending until it is resumed."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class PauseCampaign:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> Campaign:
        """Park the campaign's waiting messages and move it to paused, in one transaction; 409 unless sending.

        The messages go first, the campaign row lock last: a worker's claim locks its messages before it
        share-locks their campaign, so taking them in the same order never deadlocks. Once this commits, every
        worker's claim sees 'paused' and parks what it claimed instead of sending it.
        """
        async with account_transaction(self.pool, caller.account) as conn:
            if await campaigns.get(conn, campaign_id) is None:
                raise CampaignNotFound(campaign_id)
            parked = await outbound_messages.park_campaign(conn, campaign_id)
            campaign = await campaigns.lock(conn, campaign_id)
            assert campaign is not None  # it existed above, and nothing deletes a campaign that sends
            campaign.pause()  # raises (and rolls the parking back) unless it is sending
            saved = await campaigns.save(conn, campaign)
            await audit_events.record(conn, caller, "campaign.paused", "campaign", campaign_id, {"parked": parked})
            return saved

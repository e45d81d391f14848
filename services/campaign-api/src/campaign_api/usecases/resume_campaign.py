"""Resume a paused campaign: its parked messages go back to the outbox and are sent from where it stopped."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ResumeCampaign:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> Campaign:
        """Move a paused campaign to sending and unpark its messages (paced when it has a pace); 409 unless paused.

        The campaign row is locked first: a worker parking a message it claimed holds a share lock on the campaign,
        so its park has committed before the unpark below reads the messages, and none stays parked.
        """
        async with account_transaction(self.pool, caller.account) as conn:
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            campaign.resume()
            saved = await campaigns.save(conn, campaign)
            resumed = await outbound_messages.unpark_campaign(conn, campaign_id)
            await outbound_messages.notify_outbox(conn, campaign_id)
            await audit_events.record(conn, caller, "campaign.resumed", "campaign", campaign_id, {"resumed": resumed})
        # everything may have ended while it was paused (the attempts in flight): then it completes now
        try:
            async with account_transaction(self.pool, caller.account) as conn:
                await outbound_messages.complete_campaigns(conn, [campaign_id])
        except psycopg.OperationalError:
            pass  # the relay's completion sweep completes it
        return saved

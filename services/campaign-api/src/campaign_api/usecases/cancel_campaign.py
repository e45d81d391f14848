"""Cancel a campaign: a scheduled one goes back to draft (scheduled_at cleared); a sending or paused one ends
cancelled, its messages not yet attempted with it."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.domain import STOPPABLE, Campaign
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class CancelCampaign:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> Campaign:
        """Cancel under the campaign's row lock; 409 for a draft, sent, failed or cancelled campaign.

        For a sending or paused campaign the messages go first (pending → cancelled), the row lock last, in the
        order a worker's claim takes them; messages in flight finish and are recorded as their attempts end.
        """
        async with account_transaction(self.pool, caller.account) as conn:
            current = await campaigns.get(conn, campaign_id)
            if current is None:
                raise CampaignNotFound(campaign_id)
            ended = await outbound_messages.cancel_campaign(conn, campaign_id) if current.status in STOPPABLE else 0
            # the scheduler's send takes the same lock: whichever comes first wins, the other sees the new status
            campaign = await campaigns.lock(conn, campaign_id)
            assert campaign is not None
            campaign.cancel()  # raises (and rolls the messages back) in any other status
            saved = await campaigns.save(conn, campaign)
            changes = {"messages_cancelled": ended} if ended else None
            await audit_events.record(conn, caller, "campaign.cancelled", "campaign", campaign_id, changes)
            return saved

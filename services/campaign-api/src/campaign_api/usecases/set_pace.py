"""A campaign's pace: at most so many of its messages a minute, across every worker (None: no cap)."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.domain import CampaignStatus
from campaign_api.errors import CampaignNotFound
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class SetPace:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int, pace_per_minute: int | None) -> int | None:
        """Store the pace; a sending campaign's waiting messages are spread over it from now (or released)."""
        async with account_transaction(self.pool, caller.account) as conn:
            status = await campaigns.set_pace(conn, campaign_id, pace_per_minute)
            if status is None:
                raise CampaignNotFound(campaign_id)
            if status == CampaignStatus.SENDING:
                if pace_per_minute is None:
                    await outbound_messages.release_paced(conn, campaign_id)
                else:
                    await outbound_messages.slot_paced(conn, campaign_id)
                await outbound_messages.notify_outbox(conn, campaign_id)
            await audit_events.record(
                conn, caller, "campaign.paced", "campaign", campaign_id, {"pace_per_minute": pace_per_minute}
            )
        return pace_per_minute


@dataclass(frozen=True, slots=True)
class GetPace:
    pool: Pool

    async def __call__(self, caller: Caller, campaign_id: int) -> int | None:
        """The campaign's pace per minute, None when it has none."""
        async with account_transaction(self.pool, caller.account) as conn:
            exists, pace = await campaigns.get_pace(conn, campaign_id)
        if not exists:
            raise CampaignNotFound(campaign_id)
        return pace

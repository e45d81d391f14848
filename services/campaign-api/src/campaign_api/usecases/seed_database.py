"""Load the demo customers and campaigns; loading twice changes nothing (natural keys: phone, name)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dispatch import outbound_messages

from campaign_api.domain import CampaignStatus
from campaign_api.ports import Clock
from campaign_api.repositories import campaigns, customers
from campaign_api.repositories.connection import SET_LOCAL_APP_ROLE, Connection, enter_account
from campaign_api.seed_data import CAMPAIGNS, CUSTOMERS, SCHEDULED_AHEAD, SENT_TO_PHONES


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a load added."""

    customers_added: int
    campaigns_total: int
    messages_added: int


@dataclass(frozen=True, slots=True)
class SeedDatabase:
    clock: Clock

    async def __call__(self, conn: Connection, account_id: int) -> SeedReport:
        """Insert what is missing into the account, in one transaction, under the account's row-level security."""
        async with conn.transaction():
            # as the API's role, so the seed's lookups by phone and name see only this account's rows
            await conn.execute(SET_LOCAL_APP_ROLE)
            await enter_account(conn, account_id)
            added = 0
            for customer in CUSTOMERS:
                added += await customers.insert_if_phone_absent(conn, customer) is not None
            messages = 0
            for campaign, status in CAMPAIGNS:
                if status == CampaignStatus.SCHEDULED:
                    campaign = dataclasses.replace(campaign, scheduled_at=self.clock() + SCHEDULED_AHEAD)
                campaign_id = await campaigns.insert_if_name_absent(conn, campaign, status)
                if status == CampaignStatus.SENT:
                    messages += await outbound_messages.insert_delivered(
                        conn, campaign_id, SENT_TO_PHONES, "Hi there, check out our new range in your city!"
                    )
        return SeedReport(customers_added=added, campaigns_total=len(CAMPAIGNS), messages_added=messages)

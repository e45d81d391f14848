"""List campaigns newest first, filtered, in offset pages inside an optional keyset bound."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.lifecycle import Channel

from campaign_api.accounts import Caller
from campaign_api.domain import CampaignStatus, CampaignSummary, Page, PageRequest
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool, account_reading


@dataclass(frozen=True, slots=True)
class ListCampaigns:
    pool: Pool

    async def __call__(
        self, caller: Caller, page: PageRequest, channel: Channel | None = None, status: CampaignStatus | None = None
    ) -> Page[CampaignSummary]:
        """One page of campaigns ordered by id DESC, with the filtered total and the next cursor."""
        async with account_reading(self.pool, caller.account) as conn:
            items, total = await campaigns.list_page(conn, page, channel, status)
        return Page.of(items, page, total)

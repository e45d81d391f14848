"""List campaigns newest first, filtered, in offset pages inside an optional keyset bound."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.domain import CampaignStatus, CampaignSummary, Channel, Page, PageRequest
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


def next_cursor(items: list[CampaignSummary], page: PageRequest, total: int) -> int | None:
    """The before_id that continues after this page, or None on the last page."""
    if not items or page.offset + len(items) >= total:
        return None
    return items[-1].id


@dataclass(frozen=True, slots=True)
class ListCampaigns:
    pool: Pool

    async def __call__(
        self, page: PageRequest, channel: Channel | None = None, status: CampaignStatus | None = None
    ) -> Page[CampaignSummary]:
        """One page of campaigns ordered by id DESC, with the filtered total and the next cursor."""
        async with self.pool.connection() as conn:
            items, total = await campaigns.list_page(conn, page, channel, status)
        return Page(items=items, request=page, total_count=total, next_cursor=next_cursor(items, page, total))

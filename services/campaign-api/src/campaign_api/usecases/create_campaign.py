"""Create a campaign: validate its template through template-svc, then store it as draft or scheduled."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.domain import Campaign, NewCampaign, initial_status
from campaign_api.errors import InvalidTemplate
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    pool: Pool
    renderer: TemplateRenderer
    clock: Clock

    async def __call__(self, campaign: NewCampaign) -> Campaign:
        """A future scheduled_at makes the campaign scheduled; without one it is a draft."""
        status = initial_status(campaign.scheduled_at, self.clock())
        # ask template-svc before touching the database, so a bad template costs no connection
        problem = await self.renderer.validate(campaign.base_template, campaign.channel)
        if problem is not None:
            raise InvalidTemplate("body.base_template", problem.message)
        async with self.pool.connection() as conn:
            return await campaigns.insert(conn, campaign, status)

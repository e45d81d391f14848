"""Edit a draft or scheduled campaign: only the fields given change; scheduled_at decides draft or scheduled."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.domain import Campaign, CampaignChanges, Keep
from campaign_api.errors import CampaignNotFound, InvalidTemplate
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class UpdateCampaign:
    pool: Pool
    renderer: TemplateRenderer
    clock: Clock

    async def __call__(self, campaign_id: int, changes: CampaignChanges) -> Campaign:
        """Apply a partial update under the campaign's row lock; 409 unless it is draft or scheduled."""
        if not isinstance(changes.base_template, Keep):
            await self.validate_template(campaign_id, changes.base_template)
        async with self.pool.connection() as conn, conn.transaction():
            # a concurrent send or cancel waits here, so an edit never lands on a campaign already sending
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            campaign.apply(changes, self.clock())
            return await campaigns.save(conn, campaign)

    async def validate_template(self, campaign_id: int, template: str) -> None:
        """Ask template-svc about the template for the campaign's channel, holding no lock or connection meanwhile."""
        # the channel cannot be edited, so reading it before the locked transaction is safe
        async with self.pool.connection() as conn:
            campaign = await campaigns.get(conn, campaign_id)
        if campaign is None:
            raise CampaignNotFound(campaign_id)
        problem = await self.renderer.validate(template, campaign.channel)
        if problem is not None:
            raise InvalidTemplate("body.base_template", problem.message)

"""Edit a draft or scheduled campaign: only the fields given change; scheduled_at decides draft or scheduled."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from campaign_api.domain import EDITABLE, Campaign, CampaignChanges, CampaignStatus, Keep
from campaign_api.errors import CampaignNotEditable, CampaignNotFound, InvalidTemplate, ScheduledAtInPast
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import campaigns
from campaign_api.repositories.connection import Pool


def apply_changes(campaign: Campaign, changes: CampaignChanges) -> Campaign:
    """The campaign with the changed fields replaced; a new scheduled_at also sets the status."""
    updated = campaign
    if not isinstance(changes.name, Keep):
        updated = dataclasses.replace(updated, name=changes.name)
    if not isinstance(changes.base_template, Keep):
        updated = dataclasses.replace(updated, base_template=changes.base_template)
    if not isinstance(changes.audience, Keep):
        updated = dataclasses.replace(updated, audience=changes.audience)
    if not isinstance(changes.scheduled_at, Keep):
        status = CampaignStatus.DRAFT if changes.scheduled_at is None else CampaignStatus.SCHEDULED
        updated = dataclasses.replace(updated, scheduled_at=changes.scheduled_at, status=status)
    return updated


@dataclass(frozen=True, slots=True)
class UpdateCampaign:
    pool: Pool
    renderer: TemplateRenderer
    clock: Clock

    async def __call__(self, campaign_id: int, changes: CampaignChanges) -> Campaign:
        """Apply a partial update under the campaign's row lock; 409 unless it is draft or scheduled."""
        if isinstance(changes.scheduled_at, datetime) and changes.scheduled_at <= self.clock():
            raise ScheduledAtInPast(changes.scheduled_at)
        if not isinstance(changes.base_template, Keep):
            await self.validate_template(campaign_id, changes.base_template)
        async with self.pool.connection() as conn, conn.transaction():
            # a concurrent send or cancel waits here, so an edit never lands on a campaign already sending
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            if campaign.status not in EDITABLE:
                raise CampaignNotEditable(campaign_id, campaign.status)
            return await campaigns.update_editable(conn, apply_changes(campaign, changes))

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

"""Edit a draft or scheduled campaign: only the fields given change; scheduled_at decides draft or scheduled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign, CampaignChanges, Keep
from campaign_api.errors import CampaignNotFound, InvalidTemplate, OptOutTextMissing
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import audit_events, campaigns, compliance_settings, customer_attributes, senders
from campaign_api.repositories.connection import Pool, account_transaction


def audited_changes(changes: CampaignChanges, saved: Campaign) -> dict[str, Any]:
    """The fields the edit named, with the values they now have (the audience as its stored shape)."""
    named: dict[str, Any] = {}
    if not isinstance(changes.name, Keep):
        named["name"] = saved.name
    if not isinstance(changes.base_template, Keep):
        named["base_template"] = saved.base_template
    if not isinstance(changes.scheduled_at, Keep):
        named["scheduled_at"] = saved.scheduled_at.isoformat() if isinstance(saved.scheduled_at, datetime) else None
    if not isinstance(changes.audience, Keep):
        stored = campaigns.audience_json(saved.audience)
        named["audience"] = None if stored is None else stored.obj
    if not isinstance(changes.sender_id, Keep):
        named["sender_id"] = saved.sender_id
    if not isinstance(changes.category, Keep):
        named["category"] = saved.category.value
    if not isinstance(changes.validity_hours, Keep):
        named["validity_hours"] = saved.validity_hours
    named["status"] = saved.status.value
    return named


@dataclass(frozen=True, slots=True)
class UpdateCampaign:
    pool: Pool
    renderer: TemplateRenderer
    clock: Clock

    async def __call__(self, caller: Caller, campaign_id: int, changes: CampaignChanges) -> Campaign:
        """Apply a partial update under the campaign's row lock; 409 unless it is draft or scheduled."""
        if not isinstance(changes.base_template, Keep):
            await self.validate_template(caller, campaign_id, changes.base_template)
        async with account_transaction(self.pool, caller.account) as conn:
            # a concurrent send or cancel waits here, so an edit never lands on a campaign already sending
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            if not isinstance(changes.sender_id, Keep):
                await senders.check_campaign_sender(conn, changes.sender_id, campaign.channel)
            campaign.apply(changes, self.clock())
            # the campaign as it would be saved must carry the opt-out instruction the account requires
            settings = await compliance_settings.get(conn)
            missing = settings.missing_opt_out(campaign.base_template, campaign.channel, campaign.category)
            if missing is not None:
                raise OptOutTextMissing("body.base_template", missing)
            saved = await campaigns.save(conn, campaign)
            changed = audited_changes(changes, saved)
            await audit_events.record(conn, caller, "campaign.updated", "campaign", campaign_id, changed)
            return saved

    async def validate_template(self, caller: Caller, campaign_id: int, template: str) -> None:
        """Ask template-svc about the template for the campaign's channel, holding no lock or connection meanwhile."""
        # the channel cannot be edited, so reading it before the locked transaction is safe
        async with account_transaction(self.pool, caller.account) as conn:
            campaign = await campaigns.get(conn, campaign_id)
            attribute_names = await customer_attributes.names(conn)
        if campaign is None:
            raise CampaignNotFound(campaign_id)
        problem = await self.renderer.validate(template, campaign.channel, attribute_names)
        if problem is not None:
            raise InvalidTemplate("body.base_template", problem.message)

"""Create a campaign: validate its template through template-svc, then store it as draft or scheduled."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Campaign, NewCampaign, initial_status
from campaign_api.errors import InvalidTemplate, OptOutTextMissing
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import audit_events, campaigns, compliance_settings, customer_attributes, senders
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    pool: Pool
    renderer: TemplateRenderer
    clock: Clock

    async def __call__(self, caller: Caller, campaign: NewCampaign) -> Campaign:
        """A future scheduled_at makes the campaign scheduled; without one it is a draft."""
        status = initial_status(campaign.scheduled_at, self.clock())
        # the account's attribute names in a short transaction of their own: no connection waits on template-svc
        async with account_transaction(self.pool, caller.account) as conn:
            attribute_names = await customer_attributes.names(conn)
        problem = await self.renderer.validate(campaign.base_template, campaign.channel, attribute_names)
        if problem is not None:
            raise InvalidTemplate("body.base_template", problem.message)
        async with account_transaction(self.pool, caller.account) as conn:
            await senders.check_campaign_sender(conn, campaign.sender_id, campaign.channel)
            settings = await compliance_settings.get(conn)
            missing = settings.missing_opt_out(campaign.base_template, campaign.channel, campaign.category)
            if missing is not None:
                raise OptOutTextMissing("body.base_template", missing)
            created = await campaigns.insert(conn, campaign, status)
            changes = {"name": created.name, "channel": created.channel.value, "status": created.status.value}
            await audit_events.record(conn, caller, "campaign.created", "campaign", created.id, changes)
        return created

"""Render a campaign's message (or an override template) for one customer through template-svc."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Preview
from campaign_api.errors import CampaignNotFound, CustomerNotFound, InvalidTemplate, OptOutTextMissing
from campaign_api.ports import TemplateRenderer
from campaign_api.repositories import campaigns, compliance_settings, customer_attributes, customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class PreviewMessage:
    pool: Pool
    renderer: TemplateRenderer

    async def __call__(
        self, caller: Caller, campaign_id: int, customer_id: int, override_template: str | None = None
    ) -> Preview:
        """The message as the customer would receive it on the campaign's channel, with its SMS facts."""
        # the connection goes back to the pool before the gRPC call: a slow renderer must not hold it
        async with account_transaction(self.pool, caller.account) as conn:
            campaign = await campaigns.get(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            customer = await customers.get(conn, customer_id)
            settings = await compliance_settings.get(conn)
            attribute_names = await customer_attributes.names(conn)
        if customer is None:
            raise CustomerNotFound(customer_id)
        template = campaign.base_template if override_template is None else override_template
        missing = settings.missing_opt_out(template, campaign.channel, campaign.category)
        if missing is not None:
            raise OptOutTextMissing("base_template" if override_template is None else "body.override_template", missing)
        try:
            rendered = await self.renderer.render(template, customer, campaign.channel, attribute_names)
        except InvalidTemplate as exc:
            field = "base_template" if override_template is None else "body.override_template"
            raise InvalidTemplate(field, exc.reason) from exc
        return Preview(rendered=rendered, used_template=template, customer=customer)

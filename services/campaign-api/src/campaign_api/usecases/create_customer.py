"""Create a customer with a phone normalised to E.164; one customer per phone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.attributes import check_values
from campaign_api.domain import Customer, NewCustomer
from campaign_api.errors import CustomerPhoneExists, InvalidAttributes, InvalidPhone
from campaign_api.phone_numbers import normalise_phone
from campaign_api.repositories import audit_events, customer_attributes, customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class CreateCustomer:
    pool: Pool

    async def __call__(self, caller: Caller, customer: NewCustomer) -> Customer:
        """Store the customer; a phone already on file (in any spelling) is a conflict."""
        try:
            phone = normalise_phone(customer.phone)
        except ValueError as exc:
            raise InvalidPhone(str(exc)) from exc
        async with account_transaction(self.pool, caller.account) as conn:
            if customer.attributes:
                try:
                    checked = check_values(await customer_attributes.types_by_name(conn), customer.attributes)
                except ValueError as exc:
                    raise InvalidAttributes("body.attributes", str(exc)) from exc
                customer = dataclasses.replace(
                    customer, attributes={name: value for name, value in checked.items() if value is not None}
                )
            created = await customers.insert_if_phone_absent(conn, dataclasses.replace(customer, phone=phone))
            if created is not None:
                # the phone is personal data: the audit row names the customer, not the number
                await audit_events.record(conn, caller, "customer.created", "customer", created.id)
        if created is None:
            raise CustomerPhoneExists(phone)
        return created

"""Change a customer's fields and attributes (PATCH /customers/{id})."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import psycopg

from campaign_api.accounts import Caller
from campaign_api.attributes import check_values
from campaign_api.domain import Customer, CustomerChanges, Keep
from campaign_api.errors import CustomerNotFound, CustomerPhoneExists, InvalidAttributes, InvalidPhone
from campaign_api.phone_numbers import normalise_phone
from campaign_api.repositories import audit_events, customer_attributes, customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class UpdateCustomer:
    pool: Pool

    async def __call__(self, caller: Caller, customer_id: int, changes: CustomerChanges) -> Customer:
        """Apply the changes given; a new phone is normalised and must not be another customer's."""
        phone = changes.phone
        if not isinstance(phone, Keep):
            try:
                phone = normalise_phone(phone)
            except ValueError as exc:
                raise InvalidPhone(str(exc)) from exc
        try:
            async with account_transaction(self.pool, caller.account) as conn:
                current = await customers.lock(conn, customer_id)
                if current is None:
                    raise CustomerNotFound(customer_id)
                try:
                    attributes = check_values(await customer_attributes.types_by_name(conn), changes.attributes)
                except ValueError as exc:
                    raise InvalidAttributes("body.attributes", str(exc)) from exc
                fields = {
                    name: value
                    for name in ("first_name", "last_name", "location", "preferred_product", "time_zone")
                    if not isinstance(value := getattr(changes, name), Keep)
                }
                if not isinstance(phone, Keep):
                    fields["phone"] = phone
                updated = await customers.update(conn, dataclasses.replace(current, **fields), attributes)
                assert updated is not None  # the row is locked and not erased
                changed = sorted(fields) + [f"attributes.{name}" for name in sorted(attributes)]
                await audit_events.record(
                    conn, caller, "customer.updated", "customer", customer_id, {"fields": changed}
                )
        except psycopg.errors.UniqueViolation:
            assert isinstance(phone, str)  # only a new phone can clash
            raise CustomerPhoneExists(phone) from None
        return updated

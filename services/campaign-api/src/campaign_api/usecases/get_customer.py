"""One customer by id."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Customer
from campaign_api.errors import CustomerNotFound
from campaign_api.repositories import customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class GetCustomer:
    pool: Pool

    async def __call__(self, caller: Caller, customer_id: int) -> Customer:
        """The customer, or CustomerNotFound."""
        async with account_transaction(self.pool, caller.account) as conn:
            customer = await customers.get(conn, customer_id)
        if customer is None:
            raise CustomerNotFound(customer_id)
        return customer

"""One customer by id."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.domain import Customer
from campaign_api.errors import CustomerNotFound
from campaign_api.repositories import customers
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class GetCustomer:
    pool: Pool

    async def __call__(self, customer_id: int) -> Customer:
        """The customer, or CustomerNotFound."""
        async with self.pool.connection() as conn:
            customer = await customers.get(conn, customer_id)
        if customer is None:
            raise CustomerNotFound(customer_id)
        return customer

"""Export an account's customers as CSV (GET /customers/export), streamed from PostgreSQL's COPY."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.repositories import customer_attributes, customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ExportCustomers:
    pool: Pool

    async def __call__(self, caller: Caller) -> AsyncIterator[bytes]:
        """The CSV in the import's columns (the built-in fields, then each declared attribute), chunk by chunk."""
        account = caller.account
        async with account_transaction(self.pool, account) as conn:
            names = [declared.name for declared in await customer_attributes.list_all(conn)]
            async with conn.cursor().copy(customers.export_statement(names)) as copy:
                async for chunk in copy:
                    yield bytes(chunk)

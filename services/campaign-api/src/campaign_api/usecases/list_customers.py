"""List customers newest first in offset pages inside an optional keyset bound."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.domain import Customer, Page, PageRequest
from campaign_api.repositories import customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListCustomers:
    pool: Pool

    async def __call__(self, caller: Caller, page: PageRequest) -> Page[Customer]:
        """One page of customers ordered by id DESC, with the total and the next cursor."""
        async with account_transaction(self.pool, caller.account) as conn:
            items, total = await customers.list_page(conn, page)
        return Page.of(items, page, total)

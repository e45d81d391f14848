"""The caller's account's inbound messages, newest first, in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api import inbound
from campaign_api.accounts import Caller
from campaign_api.inbound import StoredInbound
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListInboundMessages:
    pool: Pool

    async def __call__(self, caller: Caller, before_id: int | None, limit: int) -> list[StoredInbound]:
        async with account_transaction(self.pool, caller.account) as conn:
            return await inbound.list_page(conn, before_id, limit)

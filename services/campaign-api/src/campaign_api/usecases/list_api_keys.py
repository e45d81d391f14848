"""The caller's account's API keys, revoked ones included, newest first (never their secrets)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import ApiKey, Caller
from campaign_api.repositories import accounts
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListApiKeys:
    pool: Pool

    async def __call__(self, caller: Caller) -> list[ApiKey]:
        async with account_transaction(self.pool, caller.account) as conn:
            return await accounts.list_keys(conn, caller.account)

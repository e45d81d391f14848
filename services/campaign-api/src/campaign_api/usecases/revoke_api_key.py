"""Revoke one of the caller's account's API keys: it fails authentication from the next request on."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import ApiKey, Caller
from campaign_api.errors import ApiKeyNotFound
from campaign_api.repositories import accounts, audit_events
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class RevokeApiKey:
    pool: Pool

    async def __call__(self, caller: Caller, key_id: int) -> ApiKey:
        """Revoke the key (idempotent: a revoked key keeps its first revoked_at); 404 for another account's."""
        async with account_transaction(self.pool, caller.account) as conn:
            revoked = await accounts.revoke_key(conn, caller.account, key_id)
            if revoked is None:
                raise ApiKeyNotFound(key_id)
            await audit_events.record(conn, caller, "api_key.revoked", "api_key", key_id, {"prefix": revoked.prefix})
        return revoked

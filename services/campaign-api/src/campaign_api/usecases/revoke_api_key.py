"""Revoke one of the caller's account's API keys: it fails authentication from this process's next request on,
and within API_KEY_CACHE_TTL_S on every other process."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import ApiKey, Caller
from campaign_api.errors import ApiKeyNotFound
from campaign_api.repositories import accounts, audit_events
from campaign_api.repositories.connection import Pool, account_transaction
from campaign_api.usecases.authenticate import KeyCache


@dataclass(frozen=True, slots=True)
class RevokeApiKey:
    pool: Pool
    # the authentication's cache of valid keys, which forgets the key once the revocation has committed
    keys: KeyCache | None = None

    async def __call__(self, caller: Caller, key_id: int) -> ApiKey:
        """Revoke the key (idempotent: a revoked key keeps its first revoked_at); 404 for another account's."""
        async with account_transaction(self.pool, caller.account) as conn:
            revoked = await accounts.revoke_key(conn, caller.account, key_id)
            if revoked is None:
                raise ApiKeyNotFound(key_id)
            await audit_events.record(conn, caller, "api_key.revoked", "api_key", key_id, {"prefix": revoked.prefix})
        if self.keys is not None:
            self.keys.forget(key_id)
        return revoked

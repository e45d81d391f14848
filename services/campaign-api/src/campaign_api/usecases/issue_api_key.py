"""Create an API key for the caller's account: only its hash and prefix are stored; the key is shown once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from campaign_api.accounts import ACCOUNT_SCOPES, Caller, IssuedKey, Scope, generate_key, key_hash, prefix_of
from campaign_api.errors import ScopeNotAllowed
from campaign_api.repositories import accounts, audit_events
from campaign_api.repositories.connection import Connection, Pool, account_transaction


async def store_key(
    conn: Connection, account_id: int | None, name: str, scopes: Collection[Scope], secret: str | None = None
) -> IssuedKey:
    """Store a new key (a fresh random one unless `secret` is given, e.g. DEV_API_KEY) and return it with its secret."""
    secret = secret or generate_key()
    stored = await accounts.insert_key(conn, account_id, name, prefix_of(secret), key_hash(secret), scopes)
    return IssuedKey(key=stored, secret=secret)


@dataclass(frozen=True, slots=True)
class IssueApiKey:
    pool: Pool

    async def __call__(self, caller: Caller, name: str, scopes: Collection[Scope]) -> IssuedKey:
        """A new key of the caller's account with the given scopes, audited with the key that created it."""
        for scope in sorted(set(scopes) - ACCOUNT_SCOPES):
            raise ScopeNotAllowed(scope)
        async with account_transaction(self.pool, caller.account) as conn:
            issued = await store_key(conn, caller.account, name, scopes)
            changes = {"name": name, "prefix": issued.key.prefix, "scopes": sorted(scopes)}
            await audit_events.record(conn, caller, "api_key.created", "api_key", issued.key.id, changes)
        return issued

"""Who a presented API key is: its account, its id and its scopes; nobody when it is unknown or revoked."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller, key_hash, matches
from campaign_api.repositories import accounts
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class Authenticate:
    pool: Pool

    async def __call__(self, presented: str) -> Caller | None:
        """One indexed lookup by the key's hash per request, uncached: a revocation holds from the next request."""
        async with self.pool.connection() as conn:
            stored = await accounts.find_by_hash(conn, key_hash(presented))
        # the lookup already matched the hash; comparing again in constant time costs nothing and keeps the
        # decision independent of how the database compared
        if stored is None or stored.revoked_at is not None or not matches(presented, stored.secret_hash):
            return None
        return Caller(account_id=stored.account_id, key_id=stored.id, scopes=stored.scopes)

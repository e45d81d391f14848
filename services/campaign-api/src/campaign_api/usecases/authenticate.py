"""Who a presented API key is (its account, id and scopes; nobody when unknown or revoked), and the request
counted against the key's rate limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from campaign_api.accounts import Caller, key_hash, matches
from campaign_api.errors import RateLimited
from campaign_api.repositories import accounts
from campaign_api.repositories.connection import Pool


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests a key may make per window, by bucket ('api': every request; 'send': sends)."""

    window_s: int = 60
    per_window: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({"api": 600, "send": 30}))


@dataclass(frozen=True, slots=True)
class Authenticate:
    pool: Pool
    limits: RateLimits = RateLimits()

    async def __call__(self, presented: str, buckets: Sequence[str] = ("api",)) -> Caller | None:
        """One indexed lookup by the key's hash per request, uncached: a revocation holds from the next request.

        The request is then counted in each bucket's window (one upsert each, on the same connection); past a
        limit it is refused with 429 RATE_LIMITED. The scheduler's system key is not limited.
        """
        async with self.pool.connection() as conn:
            stored = await accounts.find_by_hash(conn, key_hash(presented))
            # the lookup already matched the hash; comparing again in constant time costs nothing and keeps the
            # decision independent of how the database compared
            if stored is None or stored.revoked_at is not None or not matches(presented, stored.secret_hash):
                return None
            caller = Caller(account_id=stored.account_id, key_id=stored.id, scopes=stored.scopes)
            if caller.is_system:
                return caller
            for bucket in buckets:
                limit = self.limits.per_window[bucket]
                hits, retry_after_s = await accounts.hit_rate_limit(conn, stored.id, bucket, self.limits.window_s)
                if hits > limit:
                    what = "requests" if bucket == "api" else "sends"
                    raise RateLimited(
                        f"this API key made more than {limit} {what} in {self.limits.window_s} s;"
                        f" retry after {retry_after_s} s",
                        retry_after_s,
                    )
        return caller

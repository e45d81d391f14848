"""Who a presented API key is (its account, id and scopes; nobody when unknown or revoked), and the request
counted against the key's rate limits.

Both are kept off the database on most requests (docs/performance.md, "Per request"): a key found valid is
remembered for `key_ttl_s` (a revocation through this process forgets it at once; one made elsewhere is seen
within that time), and rate-limit hits are taken from PostgreSQL's shared window in blocks and spent locally.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NoReturn

from cachetools import TTLCache

from campaign_api.accounts import Caller, key_hash, matches
from campaign_api.errors import RateLimited
from campaign_api.repositories import accounts
from campaign_api.repositories.connection import Pool

# a bound on the keys remembered, so a flood of distinct valid keys cannot grow the process without limit
MAX_CACHED_KEYS = 10_000
# a block is this share of the limit (so a process leaves at most 1 % of a window unspent), and at most MAX_BLOCK
BLOCK_SHARE = 100
MAX_BLOCK = 64


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests a key may make per window, by bucket ('api': every request; 'send': sends)."""

    window_s: int = 60
    per_window: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({"api": 600, "send": 30}))

    def block(self, bucket: str) -> int:
        """How many hits one reservation takes: 1 (exact) for limits under 200, 1 % of the limit above."""
        return max(1, min(MAX_BLOCK, self.per_window[bucket] // BLOCK_SHARE))


@dataclass(slots=True)
class Allowance:
    """Hits of one key's bucket this process reserved in the current window and has not spent yet."""

    window_start: datetime
    ends_at: float  # on the monotonic clock
    left: int
    exhausted: bool  # the shared window passed its limit: refuse locally until it ends


class KeyCache:
    """Valid keys by hash, for a few seconds; the revocation use case forgets a key here as it commits."""

    def __init__(self, ttl_s: float, timer: Callable[[], float] = time.monotonic) -> None:
        self.enabled = ttl_s > 0
        self._callers: TTLCache[bytes, Caller] = TTLCache(MAX_CACHED_KEYS, max(ttl_s, 0.001), timer=timer)

    def get(self, secret_hash: bytes) -> Caller | None:
        return self._callers.get(secret_hash) if self.enabled else None

    def put(self, secret_hash: bytes, caller: Caller) -> None:
        if self.enabled:
            self._callers[secret_hash] = caller

    def forget(self, key_id: int) -> None:
        """Drop the key (revoked): its next request looks it up again (a scan: revocations are rare)."""
        for secret_hash in [h for h, caller in self._callers.items() if caller.key_id == key_id]:
            self._callers.pop(secret_hash, None)


@dataclass(frozen=True, slots=True)
class Authenticate:
    pool: Pool
    limits: RateLimits = RateLimits()
    keys: KeyCache = field(default_factory=lambda: KeyCache(0))
    clock: Callable[[], float] = time.monotonic
    allowances: dict[tuple[int, str], Allowance] = field(default_factory=dict)

    async def __call__(self, presented: str, buckets: Sequence[str] = ("api",)) -> Caller | None:
        """The key's caller, after counting the request in each bucket; None for an unknown or revoked key.

        Past a limit the request is refused with 429 RATE_LIMITED. The scheduler's system key is not limited.
        """
        secret_hash = key_hash(presented)
        caller = self.keys.get(secret_hash)
        if caller is None:
            caller = await self._look_up(presented, secret_hash)
            if caller is None:
                return None
        if not caller.is_system:
            assert caller.key_id is not None  # an account's caller always comes from a key here
            for bucket in buckets:
                await self._spend(caller.key_id, bucket)
        return caller

    async def _look_up(self, presented: str, secret_hash: bytes) -> Caller | None:
        async with self.pool.connection() as conn:
            stored = await accounts.find_by_hash(conn, secret_hash)
        # the lookup already matched the hash; comparing again in constant time costs nothing and keeps the
        # decision independent of how the database compared
        if stored is None or stored.revoked_at is not None or not matches(presented, stored.secret_hash):
            return None
        caller = Caller(account_id=stored.account_id, key_id=stored.id, scopes=stored.scopes)
        self.keys.put(secret_hash, caller)
        return caller

    async def _spend(self, key_id: int, bucket: str) -> None:
        """Take one hit from this process's allowance, reserving a block from the shared window when it is spent."""
        now = self.clock()
        allowance = self.allowances.get((key_id, bucket))
        if allowance is not None and now < allowance.ends_at:
            if allowance.left > 0:
                allowance.left -= 1
                return
            if allowance.exhausted:
                self._refuse(bucket, allowance.ends_at - now)
        limit = self.limits.per_window[bucket]
        block = self.limits.block(bucket)
        async with self.pool.connection() as conn:
            hits, window_start, remaining_s = await accounts.reserve_rate_limit(
                conn, key_id, bucket, self.limits.window_s, block
            )
        granted = max(0, min(block, limit - (hits - block)))
        ends_at = self.clock() + remaining_s
        # read again: a concurrent request of this process may have started the new window meanwhile
        allowance = self.allowances.get((key_id, bucket))
        if allowance is None or allowance.window_start != window_start:
            allowance = self.allowances[key_id, bucket] = Allowance(window_start, ends_at, 0, exhausted=False)
        allowance.ends_at = ends_at
        # concurrent requests of this process may have reserved too: their blocks add up
        allowance.left += granted
        allowance.exhausted = hits >= limit
        if allowance.left == 0:
            self._refuse(bucket, remaining_s)
        allowance.left -= 1
        if len(self.allowances) > MAX_CACHED_KEYS:
            self._forget_ended(now)

    def _refuse(self, bucket: str, remaining_s: float) -> NoReturn:
        retry_after_s = max(1, math.ceil(remaining_s))
        limit = self.limits.per_window[bucket]
        what = "requests" if bucket == "api" else "sends"
        raise RateLimited(
            f"this API key made more than {limit} {what} in {self.limits.window_s} s; retry after {retry_after_s} s",
            retry_after_s,
        )

    def _forget_ended(self, now: float) -> None:
        for slot in [slot for slot, allowance in self.allowances.items() if allowance.ends_at <= now]:
            del self.allowances[slot]

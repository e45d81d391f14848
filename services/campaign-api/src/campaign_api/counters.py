"""The counters of migration 0013 (message counts by status, campaign counts by channel and status): triggers
append deltas in the writing transactions; this loop folds them into one row per key, so a reader sums a handful
of rows. Run by every replica; the database function lets one of them at a time do it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

import psycopg

from campaign_api.repositories.connection import Connection, Pool

log = logging.getLogger(__name__)

COMPACT: Final = "SELECT compact_counters(%(batch)s)"


async def compact(conn: Connection, batch: int = 50_000) -> int:
    """Fold up to `batch` deltas of each counter table; how many were folded (0 when another caller is at it)."""
    cur = await conn.execute(COMPACT, {"batch": batch})
    row = await cur.fetchone()
    await conn.commit()
    return int(row[0]) if row else 0


@contextlib.asynccontextmanager
async def compacting_counters(pool: Pool, interval_s: float) -> AsyncIterator[None]:
    """Compact every `interval_s` over the owner's pool for the lifetime of the block."""

    async def forever() -> None:
        while True:
            try:
                async with pool.connection() as conn:
                    await compact(conn)
            except psycopg.Error as exc:
                log.warning("counter compaction failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(forever(), name="counter-compaction")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

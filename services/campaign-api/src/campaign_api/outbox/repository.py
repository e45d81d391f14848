"""Every SQL statement of the outbox relay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

# SKIP LOCKED: replicas each take a different batch instead of queueing behind one another
LOCK_UNPUBLISHED: Final = """
    SELECT m.id, m.traceparent, c.channel
    FROM outbound_messages m
    JOIN campaigns c ON c.id = m.campaign_id
    WHERE m.published_at IS NULL
    ORDER BY m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
"""

MARK_PUBLISHED: Final = """
    UPDATE outbound_messages SET published_at = now() WHERE id = ANY(%(ids)s::bigint[])
"""

COUNT_BACKLOG: Final = """
    SELECT count(*) FROM outbound_messages WHERE published_at IS NULL
"""

# the worker completes campaigns after each commit; this sweep over every sending campaign is the backstop for a
# worker that died in between (the rule itself is the database function of migration 0003)
COMPLETE_FINISHED: Final = """
    SELECT complete_campaigns(NULL)
"""

Conn = AsyncConnection[TupleRow]


@dataclass(frozen=True, slots=True)
class UnpublishedRow:
    """One outbox row to publish."""

    id: int
    traceparent: str | None
    channel: str


async def lock_unpublished(conn: Conn, limit: int) -> list[UnpublishedRow]:
    """Lock up to `limit` unpublished rows no other relay holds, oldest first."""
    cur = await conn.execute(LOCK_UNPUBLISHED, {"limit": limit})
    return [UnpublishedRow(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def mark_published(conn: Conn, ids: Sequence[int]) -> None:
    """Record that the broker confirmed these rows' jobs."""
    await conn.execute(MARK_PUBLISHED, {"ids": list(ids)})


async def count_backlog(conn: Conn) -> int:
    """How many rows wait for the relay."""
    cur = await conn.execute(COUNT_BACKLOG)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def complete_finished_campaigns(conn: Conn) -> int:
    """Complete every sending campaign whose messages are all terminal; return how many moved."""
    cur = await conn.execute(COMPLETE_FINISHED)
    row = await cur.fetchone()
    return int(row[0]) if row else 0

"""Every SQL statement on audience_expansions: an accepted send's audience, and how far its message creation got."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from psycopg import sql

from campaign_api.domain import Audience, Segment
from campaign_api.repositories.campaigns import audience_from_json, audience_json
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.customers import segment_ids

INSERT: Final = """
    INSERT INTO audience_expansions
        (campaign_id, customer_ids, segment, max_customer_id, cursor_id, audience_size, created, traceparent,
         finished_at)
    VALUES (%(campaign_id)s, %(customer_ids)s, %(segment)s, %(max_customer_id)s, %(cursor_id)s, %(audience_size)s,
            %(created)s, %(traceparent)s, CASE WHEN %(finished)s THEN now() END)
"""

# the account's recipients accepted but not created yet (they count against the quota like created ones)
OUTSTANDING: Final = """
    SELECT coalesce(sum(audience_size - created), 0) FROM audience_expansions
    WHERE finished_at IS NULL AND account_id = current_setting('app.account_id')::bigint
"""

# the runner's poll, across accounts (owner role), oldest first; served by audience_expansions_unfinished_idx
LIST_UNFINISHED: Final = """
    SELECT campaign_id, account_id FROM audience_expansions WHERE finished_at IS NULL
    ORDER BY accepted_at LIMIT %(limit)s
"""

# one replica works an expansion at a time: the others skip it (SKIP LOCKED) instead of queueing behind it
LOCK: Final = """
    SELECT e.cursor_id, e.max_customer_id, e.segment, e.traceparent, c.status
    FROM audience_expansions AS e JOIN campaigns AS c ON c.id = e.campaign_id
    WHERE e.campaign_id = %(campaign_id)s AND e.finished_at IS NULL
    FOR UPDATE OF e SKIP LOCKED
"""

# the next ids of a list the send named: served by the array itself (sorted at acceptance)
NEXT_LISTED_IDS: Final = """
    SELECT ARRAY(SELECT id FROM unnest(e.customer_ids) AS ids(id) WHERE id > e.cursor_id ORDER BY id
                 LIMIT %(limit)s)
    FROM audience_expansions AS e WHERE e.campaign_id = %(campaign_id)s
"""

# the next ids of a segment, in id order (the customers primary key), up to the bound fixed at acceptance
NEXT_SEGMENT_IDS: Final = """
    SELECT audience.id FROM ({audience}) AS audience(id)
    WHERE audience.id > %(after)s AND audience.id <= %(upto)s
    ORDER BY audience.id LIMIT %(limit)s
"""

ADVANCE: Final = """
    UPDATE audience_expansions
    SET cursor_id = %(cursor_id)s, created = created + %(created)s,
        finished_at = CASE WHEN %(finished)s THEN now() END
    WHERE campaign_id = %(campaign_id)s
"""


@dataclass(frozen=True, slots=True)
class LockedExpansion:
    cursor_id: int
    max_customer_id: int
    segment: Segment | None
    traceparent: str | None
    campaign_status: str


async def insert(
    conn: Connection,
    campaign_id: int,
    audience: Sequence[int] | Segment,
    *,
    max_customer_id: int,
    cursor_id: int,
    audience_size: int,
    created: int,
    traceparent: str | None,
) -> None:
    """Record an accepted send's audience and the chunk created with it (finished when that was all of it)."""
    segment = audience if isinstance(audience, Segment) else None
    await conn.execute(
        INSERT,
        {
            "campaign_id": campaign_id,
            "customer_ids": None if isinstance(audience, Segment) else list(audience),
            "segment": audience_json(Audience(segment=segment)) if segment else None,
            "max_customer_id": max_customer_id,
            "cursor_id": cursor_id,
            "audience_size": audience_size,
            "created": created,
            "traceparent": traceparent,
            "finished": cursor_id >= max_customer_id,
        },
    )


async def outstanding(conn: Connection) -> int:
    """Recipients of the transaction's account accepted and not created yet."""
    cur = await conn.execute(OUTSTANDING)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def list_unfinished(conn: Connection, limit: int) -> list[tuple[int, int]]:
    """(campaign id, account id) of expansions still creating messages, oldest first."""
    cur = await conn.execute(LIST_UNFINISHED, {"limit": limit})
    return [(int(r[0]), int(r[1])) for r in await cur.fetchall()]


async def lock(conn: Connection, campaign_id: int) -> LockedExpansion | None:
    """Lock an unfinished expansion no other replica holds; None when finished, absent or held."""
    cur = await conn.execute(LOCK, {"campaign_id": campaign_id})
    row = await cur.fetchone()
    if row is None:
        return None
    stored = audience_from_json(row[2]) if row[2] is not None else None
    return LockedExpansion(int(row[0]), int(row[1]), stored.segment if stored else None, row[3], str(row[4]))


async def next_ids(conn: Connection, campaign_id: int, expansion: LockedExpansion, limit: int) -> list[int]:
    """The next `limit` customer ids after the cursor, ascending."""
    if expansion.segment is None:
        cur = await conn.execute(NEXT_LISTED_IDS, {"campaign_id": campaign_id, "limit": limit})
        row = await cur.fetchone()
        return list(row[0]) if row else []
    return await segment_chunk(conn, expansion.segment, expansion.cursor_id, expansion.max_customer_id, limit)


async def segment_chunk(conn: Connection, segment: Segment, after: int, upto: int, limit: int) -> list[int]:
    """The segment's next `limit` customer ids in (after, upto], ascending."""
    query, params = segment_ids(segment)
    statement = sql.SQL(NEXT_SEGMENT_IDS).format(audience=query)
    cur = await conn.execute(statement, {**params, "after": after, "upto": upto, "limit": limit})
    return [int(r[0]) for r in await cur.fetchall()]


async def advance(conn: Connection, campaign_id: int, cursor_id: int, created: int, finished: bool) -> None:
    """Move the cursor past the chunk just created, in the chunk's transaction."""
    await conn.execute(
        ADVANCE, {"campaign_id": campaign_id, "cursor_id": cursor_id, "created": created, "finished": finished}
    )

"""Every SQL statement campaign-api runs on outbound_messages (the outbox relay keeps its own)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import psycopg
from psycopg import sql

from campaign_api.domain import Segment
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

# the relay LISTENs on this channel; the NOTIFY is delivered only when the transaction commits
OUTBOX_CHANNEL: Final = "outbox"

# one statement for any number of ids, sent as one array parameter; ids in ascending order keep the index
# inserts local. An unknown id fails the customers foreign key, which the caller turns into UNKNOWN_CUSTOMERS:
# relying on the FK check (done anyway) instead of joining customers saves a second lookup per id
INSERT_PENDING_FOR_IDS: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, traceparent)
    SELECT %(campaign_id)s, ids.id, %(traceparent)s
    FROM unnest(%(customer_ids)s::bigint[]) AS ids(id)
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""

# served by the primary key of customers; only run when the insert above hit the foreign key
FIND_UNKNOWN_CUSTOMERS: Final = """
    SELECT count(*), (array_agg(ids.id ORDER BY ids.id))[1:%(sample)s]
    FROM unnest(%(customer_ids)s::bigint[]) AS ids(id)
    WHERE NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.id = ids.id)
"""

# a segment is one set-based statement however many customers it matches
INSERT_PENDING_FOR_SEGMENT: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, traceparent)
    SELECT %(campaign_id)s, c.id, %(traceparent)s FROM customers AS c {where}
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""
SEGMENT_FILTERS: Final = {
    "location": "lower(c.location) = lower(%(location)s)",
    "preferred_product": "lower(c.preferred_product) = lower(%(preferred_product)s)",
}

NOTIFY_OUTBOX: Final = "SELECT pg_notify(%(channel)s, %(payload)s)"

# the seed's delivered history: already published and sent, so the relay and the worker leave it alone
INSERT_DELIVERED: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, status, rendered_content, published_at, sent_at)
    SELECT %(campaign_id)s, c.id, 'sent', %(rendered_content)s, now(), now()
    FROM customers AS c WHERE c.phone = ANY(%(phones)s::text[])
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""


async def insert_pending(
    conn: Connection, campaign_id: int, customer_ids: Sequence[int], traceparent: str | None
) -> int | None:
    """Create one pending message per customer in a single statement; return how many were created.

    None means some id names no customer: nothing was inserted (the statement ran under a savepoint).
    """
    params = {"campaign_id": campaign_id, "customer_ids": sorted(customer_ids), "traceparent": traceparent}
    try:
        async with conn.transaction():
            cur = await conn.execute(INSERT_PENDING_FOR_IDS, params)
    except psycopg.errors.ForeignKeyViolation:
        return None
    return cur.rowcount


async def insert_pending_for_segment(
    conn: Connection, campaign_id: int, segment: Segment, traceparent: str | None
) -> int:
    """Create one pending message per customer of the segment in a single statement."""
    params: dict[str, Any] = {
        "campaign_id": campaign_id,
        "traceparent": traceparent,
        "location": None if segment.all_customers else segment.location,
        "preferred_product": None if segment.all_customers else segment.preferred_product,
    }
    # no fragment at all means every customer: the API accepts a segment only with all=true or a field
    where = where_clause(SEGMENT_FILTERS, params)
    cur = await conn.execute(sql.SQL(INSERT_PENDING_FOR_SEGMENT).format(where=where), params)
    return cur.rowcount


async def find_unknown_customers(conn: Connection, customer_ids: Sequence[int], sample: int) -> tuple[int, list[int]]:
    """How many of the ids name no customer, and the smallest `sample` of them."""
    cur = await conn.execute(FIND_UNKNOWN_CUSTOMERS, {"customer_ids": list(customer_ids), "sample": sample})
    row = await cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), list(row[1] or [])


async def notify_outbox(conn: Connection, campaign_id: int) -> None:
    """Wake the outbox relay once the transaction commits."""
    await conn.execute(NOTIFY_OUTBOX, {"channel": OUTBOX_CHANNEL, "payload": str(campaign_id)})


async def insert_delivered(conn: Connection, campaign_id: int, phones: Sequence[str], rendered_content: str) -> int:
    """Record messages already sent to the customers with these phones (seed history)."""
    cur = await conn.execute(
        INSERT_DELIVERED,
        {"campaign_id": campaign_id, "phones": list(phones), "rendered_content": rendered_content},
    )
    return cur.rowcount

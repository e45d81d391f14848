"""Every SQL statement of the worker on outbound_messages, set-based over a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from dispatch_worker.domain import Channel, ClaimedMessage, Customer

EXISTING_IDS: Final = """
    SELECT id FROM outbound_messages WHERE id = ANY(%(ids)s::bigint[])
"""

# Take pending messages; take over a 'sending' one only when its holder is presumed dead: its claim is older than
# the lease, or the broker redelivered the job (the holder's channel closed without an ack).
CLAIM: Final = """
    WITH claimed AS (
        UPDATE outbound_messages m
        SET status = 'sending', claimed_at = now()
        WHERE m.id = ANY(%(ids)s::bigint[])
          AND (m.status = 'pending'
               OR (m.status = 'sending'
                   AND (m.claimed_at < now() - make_interval(secs => %(lease_s)s)
                        OR m.id = ANY(%(redelivered_ids)s::bigint[]))))
        RETURNING m.id, m.campaign_id, m.customer_id, m.retry_count
    )
    SELECT c.id, c.campaign_id, cp.channel, cp.base_template, c.retry_count,
           cu.id, cu.phone, cu.first_name, cu.last_name, cu.location, cu.preferred_product
    FROM claimed c
    JOIN campaigns cp ON cp.id = c.campaign_id
    JOIN customers cu ON cu.id = c.customer_id
    ORDER BY c.id
"""

UNCLAIM: Final = """
    UPDATE outbound_messages SET status = 'pending', claimed_at = NULL
    WHERE id = ANY(%(ids)s::bigint[]) AND status = 'sending'
"""

MARK_SENT: Final = """
    UPDATE outbound_messages m
    SET status = 'sent', sent_at = now(), rendered_content = v.content, last_error = NULL
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[]) AS v(id, content)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# count the attempt and free the row in one statement, so a crash before the republish never grants a free retry
MARK_RETRY: Final = """
    UPDATE outbound_messages m
    SET status = 'pending', retry_count = m.retry_count + 1, last_error = v.error,
        rendered_content = v.content, claimed_at = NULL
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(errors)s::text[]) AS v(id, content, error)
    WHERE m.id = v.id AND m.status = 'sending'
"""

MARK_FAILED: Final = """
    UPDATE outbound_messages m
    SET status = 'failed', last_error = v.error, rendered_content = v.content
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(errors)s::text[]) AS v(id, content, error)
    WHERE m.id = v.id AND m.status = 'sending'
"""

Conn = AsyncConnection[TupleRow]


async def existing_ids(conn: Conn, ids: Sequence[int]) -> set[int]:
    """Which of `ids` name a message at all (the rest are poison)."""
    cur = await conn.execute(EXISTING_IDS, {"ids": list(ids)})
    return {row[0] for row in await cur.fetchall()}


async def claim(conn: Conn, ids: Sequence[int], redelivered_ids: Sequence[int], lease_s: float) -> list[ClaimedMessage]:
    """Move the claimable messages to 'sending' and load each with its campaign and customer (one JOIN)."""
    cur = await conn.execute(CLAIM, {"ids": list(ids), "redelivered_ids": list(redelivered_ids), "lease_s": lease_s})
    return [
        ClaimedMessage(
            id=r[0],
            campaign_id=r[1],
            channel=Channel(r[2]),
            template=r[3],
            retry_count=r[4],
            customer=Customer(
                id=r[5], phone=r[6], first_name=r[7], last_name=r[8], location=r[9], preferred_product=r[10]
            ),
        )
        for r in await cur.fetchall()
    ]


async def unclaim(conn: Conn, ids: Sequence[int]) -> None:
    """Give messages back as pending without spending a retry (platform failure)."""
    await conn.execute(UNCLAIM, {"ids": list(ids)})


async def mark_sent(conn: Conn, ids: Sequence[int], contents: Sequence[str]) -> None:
    """Record delivered messages with their rendered text."""
    if ids:
        await conn.execute(MARK_SENT, {"ids": list(ids), "contents": list(contents)})


async def mark_retry(conn: Conn, ids: Sequence[int], contents: Sequence[str | None], errors: Sequence[str]) -> None:
    """Record a failed attempt that will be retried: retry_count + 1, back to pending."""
    if ids:
        await conn.execute(MARK_RETRY, {"ids": list(ids), "contents": list(contents), "errors": list(errors)})


async def mark_failed(conn: Conn, ids: Sequence[int], contents: Sequence[str | None], errors: Sequence[str]) -> None:
    """Record messages that will never be sent."""
    if ids:
        await conn.execute(MARK_FAILED, {"ids": list(ids), "contents": list(contents), "errors": list(errors)})

"""Every SQL statement on outbound_messages, set-based: the send's insert, the relay's lock and mark, the worker's
claim and outcome writes, and completion. Nothing else in the platform writes this table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from dispatch.lifecycle import Channel, ClaimedMessage, MessageStatus, Outcome, Recipient, UnpublishedMessage

Connection: TypeAlias = AsyncConnection[TupleRow]

# the terminal statuses of a message that was never attempted
UNSENT_ENDINGS: Final = frozenset({MessageStatus.SUPPRESSED, MessageStatus.EXPIRED, MessageStatus.CANCELLED})

# the relay LISTENs on this channel; the NOTIFY is delivered only when the send's transaction commits
OUTBOX_CHANNEL: Final = "outbox"

# ---- the send (campaign-api) ---------------------------------------------------------------------------------

# one statement for any number of ids, sent as one array parameter; ids in ascending order keep the index
# inserts local. An unknown id fails the customers foreign key, which the caller turns into UNKNOWN_CUSTOMERS:
# relying on the FK check (done anyway) instead of joining customers saves a second lookup per id
INSERT_PENDING_FOR_IDS: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, traceparent)
    SELECT %(campaign_id)s, ids.id, %(traceparent)s
    FROM unnest(%(customer_ids)s::bigint[]) AS ids(id)
    WHERE ids.id NOT IN ({suppressed})
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""

# a segment is one set-based statement however many customers it matches; the caller supplies the SELECT of ids
INSERT_PENDING_FROM_QUERY: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, traceparent)
    SELECT %(campaign_id)s, audience.id, %(traceparent)s FROM ({audience}) AS audience(id)
    WHERE audience.id NOT IN ({suppressed})
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""

# ---- compliance: who a send left out because they opted out (the two inserts above skip them) ----------------
# the campaign's account's suppressed customers on its channel (or every channel), as one set: an account has few
# suppressions next to a send's 100,000 ids, so PostgreSQL builds it once (suppressions_account_id_idx, then
# customers_account_phone_key) and probes a hash per id instead of two index lookups per id. The account is the
# campaign's, so the statements hold in any role (row-level security or the owner's)
SUPPRESSED_CUSTOMERS: Final = """
    SELECT cu.id FROM suppressions AS s
    JOIN customers AS cu ON cu.account_id = s.account_id AND cu.phone = s.phone
    WHERE s.account_id = (SELECT account_id FROM campaigns WHERE id = %(campaign_id)s)
      AND (s.channel IS NULL OR s.channel = (SELECT channel FROM campaigns WHERE id = %(campaign_id)s))
"""
COUNT_SUPPRESSED_FOR_IDS: Final = """
    SELECT count(*) FROM unnest(%(customer_ids)s::bigint[]) AS ids(id) WHERE ids.id IN ({suppressed})
"""
COUNT_SUPPRESSED_FROM_QUERY: Final = """
    SELECT count(*) FROM ({audience}) AS audience(id) WHERE audience.id IN ({suppressed})
"""


def _with_suppressed(statement: str, **parts: sql.Composable) -> sql.Composed:
    """A statement with the suppressed-customers set (and any other named part) filled in."""
    return sql.SQL(statement).format(suppressed=sql.SQL(SUPPRESSED_CUSTOMERS), **parts)


# served by the primary key of customers; only run when the insert above hit the foreign key
FIND_UNKNOWN_CUSTOMERS: Final = """
    SELECT count(*), (array_agg(ids.id ORDER BY ids.id))[1:%(sample)s]
    FROM unnest(%(customer_ids)s::bigint[]) AS ids(id)
    WHERE NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.id = ids.id)
"""

NOTIFY_OUTBOX: Final = "SELECT pg_notify(%(channel)s, %(payload)s)"

# the recipient quota: messages an account queued in the last `hours`, served by outbound_messages_account_created_idx
# (the account is the transaction's: campaign-api's row-level security and the explicit filter agree)
COUNT_QUEUED_SINCE: Final = """
    SELECT count(*) FROM outbound_messages
    WHERE account_id = current_setting('app.account_id')::bigint
      AND created_at > now() - make_interval(hours => %(hours)s)
"""

# the seed's delivered history: already published and sent, so the relay and the worker leave it alone
INSERT_DELIVERED: Final = """
    INSERT INTO outbound_messages (campaign_id, customer_id, status, rendered_content, published_at, sent_at)
    SELECT %(campaign_id)s, c.id, 'sent', %(rendered_content)s, now(), now()
    FROM customers AS c WHERE c.phone = ANY(%(phones)s::text[])
    ON CONFLICT (campaign_id, customer_id) DO NOTHING
"""

# ---- the relay -------------------------------------------------------------------------------------------------

# served by outbound_messages_outbox_due_idx; SKIP LOCKED: replicas each take a different batch instead of
# queueing. A row whose not_before lies ahead waits (a closed send window, a throttle, a pace): it is not published
LOCK_UNPUBLISHED: Final = """
    SELECT id, traceparent FROM outbound_messages
    WHERE published_at IS NULL AND not_before <= now()
    ORDER BY not_before, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
"""

MARK_PUBLISHED: Final = "UPDATE outbound_messages SET published_at = now() WHERE id = ANY(%(ids)s::bigint[])"

COUNT_BACKLOG: Final = "SELECT count(*) FROM outbound_messages WHERE published_at IS NULL"

# ---- the worker ------------------------------------------------------------------------------------------------

EXISTING_IDS: Final = "SELECT id FROM outbound_messages WHERE id = ANY(%(ids)s::bigint[])"

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
    SET status = 'sent', sent_at = now(), rendered_content = v.content, segments = v.segments, last_error = NULL,
        provider = v.provider, provider_message_id = v.provider_message_id
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(segments)s::integer[], %(providers)s::text[],
                %(provider_message_ids)s::text[])
        AS v(id, content, segments, provider, provider_message_id)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# count the attempt and free the row in one statement, so a crash before the republish never grants a free retry
MARK_RETRY: Final = """
    UPDATE outbound_messages m
    SET status = 'pending', retry_count = m.retry_count + 1, last_error = v.error,
        rendered_content = v.content, segments = v.segments, claimed_at = NULL
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(segments)s::integer[], %(errors)s::text[])
        AS v(id, content, segments, error)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# the provider asked to slow down: free the row with its retries unspent; the job waits in a tier before it returns
MARK_THROTTLED: Final = """
    UPDATE outbound_messages m
    SET status = 'pending', last_error = v.error, rendered_content = v.content, segments = v.segments,
        claimed_at = NULL
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(segments)s::integer[], %(errors)s::text[])
        AS v(id, content, segments, error)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# the message may not go yet: free the row, retries unspent, and hand it back to the outbox until `until`; the
# relay publishes it again then (the worker acks the job, so nothing circles in the broker meanwhile)
DEFER: Final = """
    UPDATE outbound_messages m
    SET status = 'pending', claimed_at = NULL, published_at = NULL, not_before = v.until, last_error = v.reason
    FROM unnest(%(ids)s::bigint[], %(untils)s::timestamptz[], %(reasons)s::text[]) AS v(id, until, reason)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# end messages that will never be attempted (suppressed, expired, cancelled) with the reason
END_UNSENT: Final = """
    UPDATE outbound_messages m
    SET status = %(status)s, last_error = v.reason, claimed_at = NULL
    FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
    WHERE m.id = v.id AND m.status IN ('pending', 'sending')
"""

MARK_FAILED: Final = """
    UPDATE outbound_messages m
    SET status = 'failed', last_error = v.error, rendered_content = v.content, segments = v.segments
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(segments)s::integer[], %(errors)s::text[])
        AS v(id, content, segments, error)
    WHERE m.id = v.id AND m.status = 'sending'
"""

# ---- completion ------------------------------------------------------------------------------------------------

# The rule is the database function complete_campaigns (migration 0003), decided in one statement: the worker
# calls it for its batch's campaigns after each commit (the last committer sees every row), the relay's sweep for
# every sending campaign (NULL) as the backstop for a worker that died in between.
COMPLETE: Final = "SELECT complete_campaigns(%(ids)s::bigint[])"


async def insert_pending(
    conn: Connection, campaign_id: int, customer_ids: Sequence[int], traceparent: str | None
) -> int | None:
    """Create one pending message per customer not suppressed, in a single statement; return how many were created.

    None means some id names no customer: nothing was inserted (the statement ran under a savepoint).
    """
    params = {"campaign_id": campaign_id, "customer_ids": sorted(customer_ids), "traceparent": traceparent}
    try:
        async with conn.transaction():
            cur = await conn.execute(_with_suppressed(INSERT_PENDING_FOR_IDS), params)
    except psycopg.errors.ForeignKeyViolation:
        return None
    return cur.rowcount


async def insert_pending_from_query(
    conn: Connection,
    campaign_id: int,
    audience: sql.Composable,
    params: Mapping[str, Any],
    traceparent: str | None,
) -> int:
    """Create one pending message per customer id the `audience` SELECT yields (suppressed ones left out)."""
    statement = _with_suppressed(INSERT_PENDING_FROM_QUERY, audience=audience)
    cur = await conn.execute(statement, {**params, "campaign_id": campaign_id, "traceparent": traceparent})
    return cur.rowcount


async def count_suppressed(
    conn: Connection,
    campaign_id: int,
    audience: Sequence[int] | sql.Composable,
    params: Mapping[str, Any] | None = None,
) -> int:
    """How many of the audience (ids, or a SELECT of ids and its params) the inserts left out as suppressed."""
    if isinstance(audience, sql.Composable):
        statement = _with_suppressed(COUNT_SUPPRESSED_FROM_QUERY, audience=audience)
        cur = await conn.execute(statement, {**(params or {}), "campaign_id": campaign_id})
    else:
        statement = _with_suppressed(COUNT_SUPPRESSED_FOR_IDS)
        cur = await conn.execute(statement, {"customer_ids": list(audience), "campaign_id": campaign_id})
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def find_unknown_customers(conn: Connection, customer_ids: Sequence[int], sample: int) -> tuple[int, list[int]]:
    """How many of the ids name no customer, and the smallest `sample` of them."""
    cur = await conn.execute(FIND_UNKNOWN_CUSTOMERS, {"customer_ids": list(customer_ids), "sample": sample})
    row = await cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), list(row[1] or [])


async def count_queued_since(conn: Connection, hours: int) -> int:
    """How many messages the transaction's account queued in the last `hours` (this transaction's included)."""
    cur = await conn.execute(COUNT_QUEUED_SINCE, {"hours": hours})
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def notify_outbox(conn: Connection, campaign_id: int) -> None:
    """Wake the outbox relay once the transaction commits."""
    await conn.execute(NOTIFY_OUTBOX, {"channel": OUTBOX_CHANNEL, "payload": str(campaign_id)})


async def insert_delivered(conn: Connection, campaign_id: int, phones: Sequence[str], rendered_content: str) -> int:
    """Record messages already sent to the customers with these phones (seed history)."""
    cur = await conn.execute(
        INSERT_DELIVERED, {"campaign_id": campaign_id, "phones": list(phones), "rendered_content": rendered_content}
    )
    return cur.rowcount


async def lock_unpublished(conn: Connection, limit: int) -> list[UnpublishedMessage]:
    """Lock up to `limit` unpublished rows no other relay holds, oldest first."""
    cur = await conn.execute(LOCK_UNPUBLISHED, {"limit": limit})
    return [UnpublishedMessage(r[0], r[1]) for r in await cur.fetchall()]


async def mark_published(conn: Connection, ids: Sequence[int]) -> None:
    """Record that the broker confirmed these rows' jobs."""
    await conn.execute(MARK_PUBLISHED, {"ids": list(ids)})


async def count_backlog(conn: Connection) -> int:
    """How many rows wait for the relay."""
    cur = await conn.execute(COUNT_BACKLOG)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def existing_ids(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of `ids` name a message at all (the rest are poison)."""
    cur = await conn.execute(EXISTING_IDS, {"ids": list(ids)})
    return {row[0] for row in await cur.fetchall()}


async def claim(
    conn: Connection, ids: Sequence[int], redelivered_ids: Sequence[int], lease_s: float
) -> list[ClaimedMessage]:
    """Move the claimable messages to 'sending' and load each with its campaign and customer (one JOIN)."""
    cur = await conn.execute(CLAIM, {"ids": list(ids), "redelivered_ids": list(redelivered_ids), "lease_s": lease_s})
    return [
        ClaimedMessage(
            id=r[0],
            campaign_id=r[1],
            channel=Channel(r[2]),
            template=r[3],
            retry_count=r[4],
            recipient=Recipient(*r[5:11]),
        )
        for r in await cur.fetchall()
    ]


async def unclaim(conn: Connection, ids: Sequence[int]) -> None:
    """Give messages back as pending without spending a retry (platform failure)."""
    await conn.execute(UNCLAIM, {"ids": list(ids)})


async def mark_sent(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Record messages the provider accepted: rendered text, segment count, provider and its message id."""
    if outcomes:
        columns = _columns(outcomes, with_errors=False)
        columns["providers"] = [o.provider for o in outcomes]
        columns["provider_message_ids"] = [o.provider_message_id for o in outcomes]
        await conn.execute(MARK_SENT, columns)


async def mark_retry(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Record failed attempts that will be retried: retry_count + 1, back to pending."""
    if outcomes:
        await conn.execute(MARK_RETRY, _columns(outcomes, with_errors=True))


async def mark_throttled(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Record attempts the provider throttled: back to pending, retry_count untouched."""
    if outcomes:
        await conn.execute(MARK_THROTTLED, _columns(outcomes, with_errors=True))


async def mark_failed(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Record messages that will never be sent."""
    if outcomes:
        await conn.execute(MARK_FAILED, _columns(outcomes, with_errors=True))


async def defer(conn: Connection, deferrals: Sequence[tuple[int, datetime, str]]) -> None:
    """Give claimed messages back to the outbox, retries unspent, to be published at their (id, until, reason)."""
    if deferrals:
        ids, untils, reasons = (list(c) for c in zip(*deferrals, strict=True))
        await conn.execute(DEFER, {"ids": ids, "untils": untils, "reasons": reasons})


async def end_unsent(conn: Connection, status: MessageStatus, endings: Sequence[tuple[int, str]]) -> int:
    """End pending or claimed messages, never attempted, in a terminal status of their own: (id, reason) each."""
    if status not in UNSENT_ENDINGS:
        raise ValueError(f"{status} is not a status for a message that was never attempted")
    if not endings:
        return 0
    ids, reasons = (list(c) for c in zip(*endings, strict=True))
    cur = await conn.execute(END_UNSENT, {"status": str(status), "ids": ids, "reasons": reasons})
    return cur.rowcount


async def complete_campaigns(conn: Connection, campaign_ids: Sequence[int] | None) -> int:
    """Move each campaign (every sending one for None) whose messages are all terminal to sent or failed."""
    if campaign_ids is not None and not campaign_ids:
        return 0
    ids = None if campaign_ids is None else sorted(set(campaign_ids))
    cur = await conn.execute(COMPLETE, {"ids": ids})
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


def _columns(outcomes: Sequence[Outcome], *, with_errors: bool) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        "ids": [o.message_id for o in outcomes],
        "contents": [o.text for o in outcomes],
        "segments": [o.segments for o in outcomes],
    }
    if with_errors:
        columns["errors"] = [o.error for o in outcomes]
    return columns

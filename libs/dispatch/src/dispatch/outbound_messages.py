"""Every SQL statement on outbound_messages, set-based: the send's insert, the relay's lock and mark, the worker's
claim and outcome writes, and completion. Nothing else in the platform writes this table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from dispatch.lifecycle import (
    Category,
    Channel,
    ClaimChecks,
    ClaimedMessage,
    MessageStatus,
    Outcome,
    Recipient,
    SenderRow,
    UnpublishedMessage,
)

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

# the audience's customers the campaign already has a message for (history, a retried send): they are not queued
# again, so the audience size at acceptance leaves them out. Served by the (campaign_id, customer_id) key
COUNT_MESSAGED_OF_IDS: Final = """
    SELECT count(*) FROM outbound_messages
    WHERE campaign_id = %(campaign_id)s AND customer_id = ANY(%(customer_ids)s::bigint[])
"""
COUNT_MESSAGED_OF_QUERY: Final = """
    SELECT count(*) FROM outbound_messages AS m
    WHERE m.campaign_id = %(campaign_id)s AND m.customer_id <= %(upto)s AND m.customer_id IN ({audience})
"""

# the recipient quota: messages an account queued in the last `hours`, from the per-minute counters campaign-api's
# migration 0013 keeps with every INSERT and DELETE here (folded totals plus the deltas not folded yet); the oldest
# minute is counted whole, so the window is up to a minute longer than `hours`, never shorter
COUNT_QUEUED_SINCE: Final = """
    SELECT coalesce(sum(n), 0) FROM (
        SELECT minute, n FROM queued_counts WHERE account_id = current_setting('app.account_id')::bigint
        UNION ALL
        SELECT minute, n FROM queued_count_deltas WHERE account_id = current_setting('app.account_id')::bigint
    ) AS queued
    WHERE minute >= date_trunc('minute', now() - make_interval(hours => %(hours)s))
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
    SELECT m.id, m.traceparent, c.category = 'transactional'
    FROM outbound_messages m JOIN campaigns c ON c.id = m.campaign_id
    WHERE m.published_at IS NULL AND m.not_before <= now()
    ORDER BY m.not_before, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
"""

# the priority lane goes first: a transactional campaign's waiting rows, found from the few sending campaigns
# (campaigns_sending_idx), then each one's own (outbound_messages_waiting_idx), so a promotional backlog is never
# scanned. LATERAL fixes that order: as a plain join ordered by id, the planner walked the primary key over every
# message with no transactional campaign sending at all (0.78 s a batch at 1M messages)
LOCK_UNPUBLISHED_PRIORITY: Final = """
    SELECT m.id, m.traceparent, true
    FROM campaigns c
    CROSS JOIN LATERAL (
        SELECT w.id, w.traceparent, w.not_before FROM outbound_messages w
        WHERE w.campaign_id = c.id AND w.published_at IS NULL AND w.not_before <= now() AND w.status = 'pending'
        ORDER BY w.not_before
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS m
    WHERE c.status = 'sending' AND c.category = 'transactional'
    ORDER BY m.not_before, m.id
    LIMIT %(limit)s
"""

MARK_PUBLISHED: Final = "UPDATE outbound_messages SET published_at = now() WHERE id = ANY(%(ids)s::bigint[])"

COUNT_BACKLOG: Final = "SELECT count(*) FROM outbound_messages WHERE published_at IS NULL"

# ---- the worker ------------------------------------------------------------------------------------------------

EXISTING_IDS: Final = "SELECT id FROM outbound_messages WHERE id = ANY(%(ids)s::bigint[])"

# Take pending messages; take over a 'sending' one only when its holder is presumed dead: its claim is older than
# the lease, or the broker redelivered the job (the holder's channel closed without an ack). The same statement
# loads what the worker checks before an attempt, so a batch costs one statement before rendering, not three:
# - `states` takes a share lock on each campaign of the batch, in id order, so a pause or cancel (which locks the
#   row FOR UPDATE) either commits first and is seen here (the lock reads the row's latest version), or waits until
#   these claims are committed; the status returned is the locked one;
# - the compliance facts: the message's suppression (the account's row for the phone on the campaign's channel or on
#   every channel, served by suppressions_account_phone_channel_key), its campaign's category and validity, the
#   customer's zone, the account's send window and the sender's. The worker runs as the owner, across accounts:
#   every join names the message's own account;
# - the sender: the campaign's named sender wins, else the one default of its account and channel
#   (senders_default_key); none: the platform's configured sender
CLAIM: Final = """
    WITH claimed AS (
        UPDATE outbound_messages m
        SET status = 'sending', claimed_at = now()
        WHERE m.id = ANY(%(ids)s::bigint[])
          AND (m.status = 'pending'
               OR (m.status = 'sending'
                   AND (m.claimed_at < now() - make_interval(secs => %(lease_s)s)
                        OR m.id = ANY(%(redelivered_ids)s::bigint[]))))
        RETURNING m.id, m.campaign_id, m.customer_id, m.retry_count, m.account_id, m.created_at
    ), states AS (
        SELECT cp.id, cp.status FROM campaigns cp
        WHERE cp.id IN (SELECT campaign_id FROM claimed)
        ORDER BY cp.id
        FOR SHARE
    )
    SELECT c.id, c.campaign_id, cp.channel, cp.base_template, c.retry_count,
           cu.id, cu.phone, cu.first_name, cu.last_name, cu.location, cu.preferred_product, cu.attributes,
           st.status, cp.category,
           coalesce(cp.sending_started_at, c.created_at) + make_interval(hours => cp.validity_hours),
           cp.validity_hours, cu.time_zone, ac.window_start, ac.window_end, ac.window_time_zone,
           se.window_start, se.window_end, se.window_time_zone,
           EXISTS (
               SELECT 1 FROM suppressions AS s
               WHERE s.account_id = c.account_id AND s.phone = cu.phone
                 AND (s.channel IS NULL OR s.channel = cp.channel)
           ),
           se.id, se.channel, se.provider, se.address, se.credentials_ref, se.throughput_per_s::float8,
           se.callback_token, se.whatsapp_template, se.whatsapp_template_language
    FROM claimed c
    JOIN states st ON st.id = c.campaign_id
    JOIN campaigns cp ON cp.id = c.campaign_id
    JOIN customers cu ON cu.id = c.customer_id
    LEFT JOIN account_compliance ac ON ac.account_id = c.account_id
    LEFT JOIN senders se ON se.account_id = cp.account_id
                        AND se.id = coalesce(cp.sender_id, (SELECT d.id FROM senders d
                                                            WHERE d.account_id = cp.account_id
                                                              AND d.channel = cp.channel AND d.is_default))
    ORDER BY c.id
"""

UNCLAIM: Final = """
    UPDATE outbound_messages SET status = 'pending', claimed_at = NULL
    WHERE id = ANY(%(ids)s::bigint[]) AND status = 'sending'
"""

MARK_SENT: Final = """
    UPDATE outbound_messages m
    SET status = 'sent', sent_at = now(), rendered_content = v.content, segments = v.segments, last_error = NULL,
        provider = v.provider, provider_message_id = v.provider_message_id,
        sender_id = v.sender_id, cost = v.cost, cost_currency = v.cost_currency
    FROM unnest(%(ids)s::bigint[], %(contents)s::text[], %(segments)s::integer[], %(providers)s::text[],
                %(provider_message_ids)s::text[], %(sender_ids)s::bigint[], %(costs)s::numeric[],
                %(cost_currencies)s::text[])
        AS v(id, content, segments, provider, provider_message_id, sender_id, cost, cost_currency)
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


async def count_messaged(
    conn: Connection,
    campaign_id: int,
    customer_ids: Sequence[int] | None = None,
    audience: sql.Composable | None = None,
    params: Mapping[str, Any] | None = None,
    upto: int = 0,
) -> int:
    """How many of these customers (the ids, or the `audience` SELECT's up to `upto`) the campaign has a message for."""
    if customer_ids is not None:
        cur = await conn.execute(COUNT_MESSAGED_OF_IDS, {"campaign_id": campaign_id, "customer_ids": customer_ids})
    else:
        assert audience is not None  # one of the two is given
        statement = sql.SQL(COUNT_MESSAGED_OF_QUERY).format(audience=audience)
        cur = await conn.execute(statement, {**(params or {}), "campaign_id": campaign_id, "upto": upto})
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
    """Lock up to `limit` unpublished rows no other relay holds: the priority lane's first, then oldest first."""
    cur = await conn.execute(LOCK_UNPUBLISHED_PRIORITY, {"limit": limit})
    rows = [UnpublishedMessage(r[0], r[1], True) for r in await cur.fetchall()]
    if len(rows) < limit:
        # rows this transaction locked already are not skipped: keep each once
        taken = {r.id for r in rows}
        cur = await conn.execute(LOCK_UNPUBLISHED, {"limit": limit - len(rows)})
        rows += [UnpublishedMessage(r[0], r[1], bool(r[2])) for r in await cur.fetchall() if r[0] not in taken]
    return rows


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
    """Move the claimable messages to 'sending' and load each with its campaign, its customer and its checks (one
    statement; the campaigns are share-locked until the transaction ends, see hold_stopped)."""
    cur = await conn.execute(CLAIM, {"ids": list(ids), "redelivered_ids": list(redelivered_ids), "lease_s": lease_s})
    return [
        ClaimedMessage(
            id=r[0],
            campaign_id=r[1],
            channel=Channel(r[2]),
            template=r[3],
            retry_count=r[4],
            recipient=Recipient(*r[5:12]),
            checks=ClaimChecks(
                r[12],
                Category(r[13]),
                r[14],
                r[15],
                r[16],
                r[17],
                r[18],
                r[19],
                r[20],
                r[21],
                r[22],
                bool(r[23]),
                None if r[24] is None else SenderRow(r[24], Channel(r[25]), *r[26:33]),
            ),
        )
        for r in await cur.fetchall()
    ]


async def unclaim(conn: Connection, ids: Sequence[int]) -> None:
    """Give messages back as pending without spending a retry (platform failure)."""
    await conn.execute(UNCLAIM, {"ids": list(ids)})


async def mark_sent(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Record messages the provider accepted: rendered text, segment count, provider and its message id, the
    sender they went through and the provider's cost."""
    if outcomes:
        columns = _columns(outcomes, with_errors=False)
        columns["providers"] = [o.provider for o in outcomes]
        columns["provider_message_ids"] = [o.provider_message_id for o in outcomes]
        columns["sender_ids"] = [o.sender_id for o in outcomes]
        columns["costs"] = [o.cost for o in outcomes]
        columns["cost_currencies"] = [o.cost_currency for o in outcomes]
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


# ---- erasure (campaign-api) -------------------------------------------------------------------------------------

# the right to erasure: the text sent to the person goes, each message's status (and so every campaign count) stays;
# the request's own transaction runs it, so row-level security keeps it inside the caller's account
REDACT_CUSTOMER: Final = """
    UPDATE outbound_messages SET rendered_content = NULL, last_error = NULL
    WHERE customer_id = %(customer_id)s AND (rendered_content IS NOT NULL OR last_error IS NOT NULL)
"""


# a message still waiting for an erased person can never go out (there is no phone left): it ends cancelled, which
# keeps it in its campaign's total; one a worker already holds finishes as it would have
CANCEL_PENDING_FOR_CUSTOMER: Final = """
    UPDATE outbound_messages SET status = 'cancelled', last_error = 'the customer was erased', claimed_at = NULL
    WHERE customer_id = %(customer_id)s AND status = 'pending'
"""


async def cancel_pending_for_customer(conn: Connection, customer_id: int) -> int:
    """End the customer's messages not yet sent as cancelled; how many."""
    cur = await conn.execute(CANCEL_PENDING_FOR_CUSTOMER, {"customer_id": customer_id})
    return cur.rowcount


async def redact_customer(conn: Connection, customer_id: int) -> int:
    """Remove the rendered text (and the provider's error text) of every message to the customer; how many."""
    cur = await conn.execute(REDACT_CUSTOMER, {"customer_id": customer_id})
    return cur.rowcount


# ---- operator controls: pause, resume, cancel, dead letters, replay, pace ------------------------------------
#
# A paused campaign's waiting messages are parked: pending, out of the broker (published_at NULL) and
# not_before 'infinity', the end of outbound_messages_outbox_due_idx, where the relay never looks. Resume sets them
# back to '-infinity' (or to their pace slots) and the relay publishes them again; nothing circles in the broker.

PARKED: Final = "infinity"
CANCELLED_REASON: Final = "campaign cancelled"

# taken right after the claim, in its transaction: a share lock on each campaign of the batch, so a pause or cancel
# (which locks the row FOR UPDATE) either commits first and is seen here, or waits until these claims are committed
LOCK_CAMPAIGN_STATES: Final = """
    SELECT id, status FROM campaigns WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR SHARE
"""

# a claimed message of a paused campaign goes back to the outbox, parked, retries unspent; its job is acked
PARK_CLAIMED: Final = """
    UPDATE outbound_messages SET status = 'pending', claimed_at = NULL, published_at = NULL, not_before = 'infinity'
    WHERE id = ANY(%(ids)s::bigint[]) AND status = 'sending'
"""

# a claimed message of a cancelled campaign (a retry that came back, a dead holder's message) ends unsent
CANCEL_CLAIMED: Final = """
    UPDATE outbound_messages
    SET status = 'cancelled', claimed_at = NULL, last_error = %(reason)s, published_at = coalesce(published_at, now())
    WHERE id = ANY(%(ids)s::bigint[]) AND status = 'sending'
"""

# the pause: every waiting message the relay could publish now is parked (one still waiting for a later
# not_before stays; should its time come during the pause, the worker's check parks it). Served by
# outbound_messages_campaign_status_idx
PARK_CAMPAIGN: Final = """
    UPDATE outbound_messages SET not_before = 'infinity'
    WHERE campaign_id = %(campaign_id)s AND status = 'pending' AND published_at IS NULL AND not_before <= now()
"""

UNPARK_CAMPAIGN: Final = """
    UPDATE outbound_messages SET not_before = '-infinity'
    WHERE campaign_id = %(campaign_id)s AND status = 'pending' AND published_at IS NULL AND not_before = 'infinity'
"""

# the cancel: messages not yet attempted end 'cancelled' and leave the outbox; 'sending' ones are in flight and are
# recorded as their attempt ends (a retry of one comes back to the worker's check and ends cancelled there)
CANCEL_CAMPAIGN: Final = """
    UPDATE outbound_messages
    SET status = 'cancelled', last_error = %(reason)s, claimed_at = NULL, published_at = coalesce(published_at, now())
    WHERE campaign_id = %(campaign_id)s AND status = 'pending'
"""

# the worker's record of a final failure, beside the DLQ publish: why, and when
RECORD_DEAD_LETTERS: Final = """
    UPDATE outbound_messages m SET dead_letter_reason = v.reason, dead_lettered_at = now()
    FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
    WHERE m.id = v.id AND m.status = 'failed'
"""

# a replay or a retry of failures: failed messages back to pending, retries reset, into the outbox. FOR UPDATE and
# the status re-check make concurrent replays take each message once: the second finds it pending and skips it.
# A cancelled campaign's messages are never sent again. {where} adds the caller's filter (ids, campaign, reason)
REQUEUE_FAILED: Final = """
    WITH chosen AS (
        SELECT m.id FROM outbound_messages m JOIN campaigns c ON c.id = m.campaign_id
        WHERE m.status = 'failed' AND c.status <> 'cancelled' {where}
        ORDER BY m.id
        LIMIT %(limit)s
        FOR UPDATE OF m
    )
    UPDATE outbound_messages m
    SET status = 'pending', retry_count = 0, claimed_at = NULL, published_at = NULL, not_before = '-infinity',
        dead_letter_reason = NULL, dead_lettered_at = NULL
    FROM chosen WHERE m.id = chosen.id
    RETURNING m.id, m.campaign_id
"""
REQUEUE_FILTERS: Final = {
    "ids": "m.id = ANY(%(ids)s::bigint[])",
    "campaign_id": "m.campaign_id = %(campaign_id)s",
    "reason": "m.dead_letter_reason = %(reason)s",
    "dead_only": "m.dead_lettered_at IS NOT NULL",
}

# the pace: the campaign's waiting messages (not parked) get slots 60 / pace seconds apart from now, in id order;
# a campaign without a pace is left alone (the one-time filter on `paced` skips the scan)
SLOT_PACED: Final = """
    WITH paced AS (
        SELECT pace_per_minute FROM campaigns WHERE id = %(campaign_id)s AND pace_per_minute IS NOT NULL
    ), waiting AS (
        SELECT m.id, row_number() OVER (ORDER BY m.id) - 1 AS n
        FROM outbound_messages m
        WHERE m.campaign_id = %(campaign_id)s AND m.status = 'pending' AND m.published_at IS NULL
          AND m.not_before <> 'infinity' AND EXISTS (SELECT 1 FROM paced)
    )
    UPDATE outbound_messages m SET not_before = now() + make_interval(secs => w.n * 60.0 / p.pace_per_minute)
    FROM waiting w, paced p
    WHERE m.id = w.id
"""

# which of these DLQ jobs still name a dead letter (a job naming anything else was replayed, or is stale)
STILL_DEAD: Final = """
    SELECT id FROM outbound_messages
    WHERE id = ANY(%(ids)s::bigint[]) AND status = 'failed' AND dead_lettered_at IS NOT NULL
"""


async def hold_stopped(conn: Connection, claimed: Sequence[ClaimedMessage]) -> list[ClaimedMessage]:
    """Of the messages just claimed, park those of paused campaigns and end those of cancelled ones; return the
    rest, which may be attempted. Call it in the claim's transaction. The claim read each campaign's status under
    its share lock already; only messages built without it (no checks) make it lock and read them here."""
    if not claimed:
        return []
    states = {m.campaign_id: m.checks.campaign_status for m in claimed if m.checks is not None}
    if unread := sorted({m.campaign_id for m in claimed} - states.keys()):
        cur = await conn.execute(LOCK_CAMPAIGN_STATES, {"ids": unread})
        states |= {int(r[0]): str(r[1]) for r in await cur.fetchall()}
    stopped = {i: status for i, status in states.items() if status in ("paused", "cancelled")}
    if not stopped:
        return list(claimed)
    if park := [m.id for m in claimed if stopped.get(m.campaign_id) == "paused"]:
        await conn.execute(PARK_CLAIMED, {"ids": park})
    if cancel := [m.id for m in claimed if stopped.get(m.campaign_id) == "cancelled"]:
        await conn.execute(CANCEL_CLAIMED, {"ids": cancel, "reason": CANCELLED_REASON})
    return [m for m in claimed if m.campaign_id not in stopped]


async def park_campaign(conn: Connection, campaign_id: int) -> int:
    """Park the campaign's messages the relay could publish now (the pause); return how many."""
    cur = await conn.execute(PARK_CAMPAIGN, {"campaign_id": campaign_id})
    return cur.rowcount


async def unpark_campaign(conn: Connection, campaign_id: int) -> int:
    """Give the campaign's parked messages back to the relay, paced when the campaign has a pace (the resume)."""
    cur = await conn.execute(UNPARK_CAMPAIGN, {"campaign_id": campaign_id})
    await slot_paced(conn, campaign_id)
    return cur.rowcount


async def cancel_campaign(conn: Connection, campaign_id: int) -> int:
    """End the campaign's messages not yet attempted as cancelled; return how many."""
    cur = await conn.execute(CANCEL_CAMPAIGN, {"campaign_id": campaign_id, "reason": CANCELLED_REASON})
    return cur.rowcount


async def record_dead_letters(conn: Connection, dead: Sequence[tuple[int, str]]) -> None:
    """Record why failed messages went to the DLQ: (id, DeadLetterReason) each."""
    if dead:
        ids, reasons = (list(c) for c in zip(*dead, strict=True))
        await conn.execute(RECORD_DEAD_LETTERS, {"ids": ids, "reasons": reasons})


async def requeue_failed(
    conn: Connection,
    *,
    limit: int,
    ids: Sequence[int] | None = None,
    campaign_id: int | None = None,
    reason: str | None = None,
    dead_only: bool = True,
) -> list[tuple[int, int]]:
    """Failed messages matching every filter given back to pending with retries reset, into the outbox;
    (id, campaign_id) of each. The caller notifies the relay and reopens their campaigns."""
    params: dict[str, Any] = {"limit": limit, "ids": list(ids) if ids is not None else None}
    params |= {"campaign_id": campaign_id, "reason": reason, "dead_only": True if dead_only else None}
    where = sql.SQL("").join(
        sql.SQL(" AND " + clause) for name, clause in REQUEUE_FILTERS.items() if params[name] is not None
    )
    cur = await conn.execute(sql.SQL(REQUEUE_FAILED).format(where=where), params)
    return [(int(r[0]), int(r[1])) for r in await cur.fetchall()]


async def slot_paced(conn: Connection, campaign_id: int) -> int:
    """Spread the campaign's waiting messages over its pace from now; 0 when it has none."""
    cur = await conn.execute(SLOT_PACED, {"campaign_id": campaign_id})
    return cur.rowcount


async def still_dead(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of `ids` are dead letters still (failed, recorded as dead-lettered, not replayed)."""
    cur = await conn.execute(STILL_DEAD, {"ids": list(ids)})
    return {int(r[0]) for r in await cur.fetchall()}


# the pace was lifted: the campaign's messages waiting for a slot go at once (parked ones stay parked)
RELEASE_PACED: Final = """
    UPDATE outbound_messages SET not_before = '-infinity'
    WHERE campaign_id = %(campaign_id)s AND status = 'pending' AND published_at IS NULL
      AND not_before > now() AND not_before <> 'infinity'
"""


async def release_paced(conn: Connection, campaign_id: int) -> int:
    """Let the campaign's messages waiting for a pace slot go at once; return how many."""
    cur = await conn.execute(RELEASE_PACED, {"campaign_id": campaign_id})
    return cur.rowcount


# a sender's window changed or went: its campaigns' messages waiting for a window are judged again at once (the gate
# defers each one again, to the new common opening, when a window is still closed); throttled and paced waits keep
# their time, parked ones stay parked
RELEASE_WINDOW_WAITS: Final = """
    UPDATE outbound_messages SET not_before = '-infinity'
    WHERE campaign_id = ANY(%(campaign_ids)s::bigint[]) AND status = 'pending' AND published_at IS NULL
      AND not_before > now() AND not_before <> 'infinity' AND last_error LIKE 'outside the send window%%'
"""


async def release_window_waits(conn: Connection, campaign_ids: Sequence[int]) -> int:
    """Let the campaigns' messages waiting for a send window be judged again at once; return how many."""
    if not campaign_ids:
        return 0
    cur = await conn.execute(RELEASE_WINDOW_WAITS, {"campaign_ids": list(campaign_ids)})
    return cur.rowcount

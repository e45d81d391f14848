"""What each claimed message's compliance checks need, for messages the claim statement did not load them with
(the claim loads the same facts itself: dispatch.outbound_messages.CLAIM)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from dispatch.lifecycle import Category, ClaimChecks
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

# one row per message, set-based: its suppression (the account's row for the phone on the campaign's channel or on
# every channel, served by suppressions_account_phone_channel_key), its campaign's category and validity, the
# customer's zone, the account's window and the window of the sender the message goes through (the campaign's own
# sender, else the account's default for the channel: the sender choice's rule, served by senders_default_key). The
# worker runs as the owner, across accounts: every join names the message's own account
SELECT_FACTS: Final = """
    SELECT m.id, cp.status, cp.category,
           coalesce(cp.sending_started_at, m.created_at) + make_interval(hours => cp.validity_hours) AS expires_at,
           cp.validity_hours, cu.time_zone, ac.window_start, ac.window_end, ac.window_time_zone,
           se.window_start, se.window_end, se.window_time_zone,
           EXISTS (
               SELECT 1 FROM suppressions AS s
               WHERE s.account_id = m.account_id AND s.phone = cu.phone
                 AND (s.channel IS NULL OR s.channel = cp.channel)
           ) AS suppressed
    FROM outbound_messages AS m
    JOIN campaigns AS cp ON cp.id = m.campaign_id
    JOIN customers AS cu ON cu.id = m.customer_id
    LEFT JOIN account_compliance AS ac ON ac.account_id = m.account_id
    LEFT JOIN senders AS se
           ON se.account_id = m.account_id
          AND se.id = coalesce(cp.sender_id, (SELECT d.id FROM senders AS d
                                              WHERE d.account_id = m.account_id AND d.channel = cp.channel
                                                AND d.is_default))
    WHERE m.id = ANY(%(ids)s::bigint[])
"""


async def load(conn: AsyncConnection[TupleRow], message_ids: Sequence[int]) -> dict[int, ClaimChecks]:
    """The checks of each message, by id (the campaign's status as read, not locked: hold_stopped locks it)."""
    cur = await conn.execute(SELECT_FACTS, {"ids": list(message_ids)})
    return {
        r[0]: ClaimChecks(r[1], Category(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], bool(r[12]))
        for r in await cur.fetchall()
    }

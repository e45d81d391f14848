"""Which sender each claimed message goes through, and when it may go.

The claim statement loads each message's sender with it (a message built without it costs one set-based query
per batch here): the campaign's own (campaigns.sender_id), else its
account's default sender for the channel; a campaign with neither goes through the platform's configured SENDER,
unpaced. WhatsApp messages get a second query only when the batch has some: whose customer wrote in the last 24
hours (inbound_messages), so free text may go to them. Pacing takes every message's tokens for a sender in one call
of the database's shared token bucket (take_sender_tokens, migration 0014) and spaces the sends at the rate it
answers; a throttled answer halves the sender's rate for a while (slow_sender).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from dispatch.lifecycle import Channel, ClaimedMessage, SenderRow
from psycopg_pool import AsyncConnectionPool

from dispatch_worker.ports import Sender
from dispatch_worker.senders.registry import AdapterRegistry

# for messages claimed without their sender: a campaign's named sender wins; else the one default of its account
# and channel (senders_default_key). The claim statement (dispatch.outbound_messages.CLAIM) joins the same way
SENDERS_OF_CAMPAIGNS: Final = """
    SELECT c.id, s.id, s.channel, s.provider, s.address, s.credentials_ref, s.throughput_per_s::float8,
           s.callback_token, s.whatsapp_template, s.whatsapp_template_language
    FROM campaigns c
    JOIN senders s ON s.account_id = c.account_id
                  AND s.id = coalesce(c.sender_id, (SELECT d.id FROM senders d
                                                    WHERE d.account_id = c.account_id
                                                      AND d.channel = c.channel AND d.is_default))
    WHERE c.id = ANY(%(campaign_ids)s::bigint[])
"""

# served by inbound_messages_account_phone_idx: the customer wrote on WhatsApp in the last 24 hours
OPEN_SERVICE_WINDOWS: Final = """
    SELECT m.id
    FROM unnest(%(ids)s::bigint[], %(campaign_ids)s::bigint[], %(phones)s::text[]) AS m(id, campaign_id, phone)
    JOIN campaigns c ON c.id = m.campaign_id
    WHERE EXISTS (SELECT 1 FROM inbound_messages i
                  WHERE i.account_id = c.account_id AND i.phone = m.phone AND i.channel = 'whatsapp'
                    AND i.received_at > now() - interval '24 hours')
"""

TAKE_TOKENS: Final = """
    SELECT wait_s, rate_per_s, taken, clock_timestamp() + make_interval(secs => wait_s)
    FROM take_sender_tokens(%(sender_id)s, %(tokens)s, %(rate)s, %(max_wait_s)s)
"""
SLOW_SENDER: Final = "SELECT slow_sender(%(sender_id)s, %(for_s)s)"


@dataclass(frozen=True, slots=True)
class Route:
    """The sender a message goes through: its adapter, its row (None: the platform's SENDER, unpaced), and whether
    the WhatsApp customer service window is open for its customer."""

    sender: Sender
    row: SenderRow | None = None
    service_window_open: bool = False

    @property
    def sender_id(self) -> int | None:
        """The senders row's id, stamped on the message."""
        return self.row.id if self.row else None


@dataclass(frozen=True, slots=True)
class Pacing:
    """Per message: seconds to wait before sending, or (deferred) the time to hand it back to the outbox until."""

    delays: dict[int, float] = field(default_factory=dict)
    deferred: dict[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SenderChoice:
    """Routes and paces a batch's messages; the deliver use case calls it between rendering and sending."""

    pool: AsyncConnectionPool
    registry: AdapterRegistry
    platform: Sender  # the configured SENDER, for campaigns whose account has no sender for the channel
    throttle_slowdown_s: float = 30.0
    # a batch holds its claims while it waits for its tokens; a longer wait hands the messages back to the outbox
    max_pacing_wait_s: float = 10.0

    async def routes(self, claimed: Sequence[ClaimedMessage]) -> dict[int, Route]:
        """Each message's route: the sender the claim loaded, no query (one for messages claimed without it, one
        more when the batch holds WhatsApp messages)."""
        rows: dict[int, SenderRow | None] = {m.campaign_id: m.checks.sender for m in claimed if m.checks is not None}
        unread = sorted({m.campaign_id for m in claimed} - rows.keys())
        whatsapp = [m for m in claimed if m.channel is Channel.WHATSAPP]
        open_windows: set[int] = set()
        if not unread and not whatsapp:
            return self._routes_of(claimed, rows, open_windows)
        async with self.pool.connection() as conn:
            if unread:
                cur = await conn.execute(SENDERS_OF_CAMPAIGNS, {"campaign_ids": unread})
                rows |= {r[0]: SenderRow(r[1], Channel(r[2]), *r[3:]) for r in await cur.fetchall()}
            if whatsapp:
                cur = await conn.execute(
                    OPEN_SERVICE_WINDOWS,
                    {
                        "ids": [m.id for m in whatsapp],
                        "campaign_ids": [m.campaign_id for m in whatsapp],
                        "phones": [m.recipient.phone for m in whatsapp],
                    },
                )
                open_windows = {r[0] for r in await cur.fetchall()}
        return self._routes_of(claimed, rows, open_windows)

    def _routes_of(
        self, claimed: Sequence[ClaimedMessage], rows: dict[int, SenderRow | None], open_windows: set[int]
    ) -> dict[int, Route]:
        routes: dict[int, Route] = {}
        for m in claimed:
            row = rows.get(m.campaign_id)
            sender = self.registry.get(row) if row is not None else self.platform
            routes[m.id] = Route(sender, row, m.id in open_windows)
        return routes

    async def pace(self, tokens: dict[int, float], routes: dict[int, Route]) -> Pacing:
        """How long each message waits before it may go (seconds from now): one bucket call per sender for all
        its messages' tokens, then the messages one after another at the rate the bucket charged. A sender booked
        further ahead than `max_pacing_wait_s` takes nothing: its messages are deferred until its bucket frees."""
        by_sender: dict[int, list[int]] = defaultdict(list)
        rows: dict[int, SenderRow] = {}
        for message_id, spent in tokens.items():
            row = routes[message_id].row
            if row is not None and spent > 0:
                by_sender[row.id].append(message_id)
                rows[row.id] = row
        pacing = Pacing()
        if not by_sender:
            return pacing
        async with self.pool.connection() as conn:
            for sender_id, ids in sorted(by_sender.items()):
                params = {
                    "sender_id": sender_id,
                    "tokens": sum(tokens[i] for i in ids),
                    "rate": rows[sender_id].throughput_per_s,
                    "max_wait_s": self.max_pacing_wait_s,
                }
                async with conn.transaction():  # the bucket's row lock ends with each call
                    cur = await conn.execute(TAKE_TOKENS, params)
                    answer = await cur.fetchone()
                assert answer is not None  # a function call always answers a row
                wait_s, rate, taken, free_at = float(answer[0]), float(answer[1]), bool(answer[2]), answer[3]
                if not taken:
                    pacing.deferred.update((i, free_at) for i in ids)
                    continue
                starts = itertools.accumulate((tokens[i] for i in ids[:-1]), initial=0.0)
                pacing.delays.update(
                    (i, max(0.0, wait_s + before / rate)) for i, before in zip(ids, starts, strict=True)
                )
        return pacing

    async def slow_down(self, sender_ids: set[int]) -> None:
        """The provider throttled these senders: halve their rates for a while, on every replica."""
        if sender_ids:
            async with self.pool.connection() as conn:
                for sender_id in sorted(sender_ids):
                    async with conn.transaction():
                        await conn.execute(SLOW_SENDER, {"sender_id": sender_id, "for_s": self.throttle_slowdown_s})

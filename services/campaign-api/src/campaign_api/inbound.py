"""Inbound messages (MO): every one is stored, in the account it was addressed to, before anything acts on it.

Each way in (the REST API's POST /inbound-messages, each provider's inbound callback) builds an InboundMessage and
calls `record`; what an inbound message causes (an opt-out keyword, for one) happens inside `record`, in the same
transaction, so a stored message and its effect never part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from dispatch.lifecycle import Channel

from campaign_api.compliance import KeywordAction, SuppressionSource
from campaign_api.repositories import compliance_settings, suppressions
from campaign_api.repositories.connection import Connection

# a provider's repeated callback (same provider message id) inserts nothing and reports the first row
INSERT_INBOUND: Final = """
    INSERT INTO inbound_messages (channel, phone, body, provider, provider_message_id, received_at)
    VALUES (%(channel)s, %(phone)s, %(body)s, %(provider)s, %(provider_message_id)s, coalesce(%(received_at)s, now()))
    ON CONFLICT (account_id, provider, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING id
"""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message a recipient sent: phone already E.164."""

    channel: Channel
    phone: str
    body: str
    provider: str
    provider_message_id: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordedInbound:
    """A stored inbound message and what its text did (a stop or start keyword), if anything."""

    id: int
    action: KeywordAction | None


async def record(conn: Connection, message: InboundMessage) -> int | None:
    """Store the message in the transaction's account and act on its keyword; None when the provider already
    delivered it (a duplicate, which acts on nothing again)."""
    recorded = await record_and_act(conn, message)
    return None if recorded is None else recorded.id


async def record_and_act(conn: Connection, message: InboundMessage) -> RecordedInbound | None:
    """`record`, also saying what the message did: a stop keyword suppresses the phone on the message's channel
    (source 'keyword'); a start keyword lifts the suppressions the phone's own keywords set there."""
    stored = await _store(conn, message)
    if stored is None:
        return None
    settings = await compliance_settings.get(conn)
    action = settings.keyword_action(message.body)
    if action is KeywordAction.STOP:
        reason = f"the recipient texted {message.body.strip()[:40]!r}"
        await suppressions.insert(conn, message.phone, message.channel, reason, SuppressionSource.KEYWORD)
    elif action is KeywordAction.START:
        await suppressions.delete_keyword_suppressions(conn, message.phone, message.channel)
    return RecordedInbound(stored, action)


async def _store(conn: Connection, message: InboundMessage) -> int | None:
    cur = await conn.execute(
        INSERT_INBOUND,
        {
            "channel": str(message.channel),
            "phone": message.phone,
            "body": message.body,
            "provider": message.provider,
            "provider_message_id": message.provider_message_id,
            "received_at": message.received_at,
        },
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


# served by inbound_messages_account_id_idx; row-level security adds the account
LIST_INBOUND: Final = """
    SELECT id, channel, phone, body, provider, provider_message_id, received_at FROM inbound_messages
    WHERE (%(before_id)s::bigint IS NULL OR id < %(before_id)s::bigint)
    ORDER BY id DESC LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class StoredInbound:
    """An inbound message as listed."""

    id: int
    channel: Channel
    phone: str
    body: str
    provider: str
    provider_message_id: str | None
    received_at: datetime


async def list_page(conn: Connection, before_id: int | None, limit: int) -> list[StoredInbound]:
    """The account's newest inbound messages below before_id (keyset), at most limit."""
    cur = await conn.execute(LIST_INBOUND, {"before_id": before_id, "limit": limit})
    return [StoredInbound(r[0], Channel(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in await cur.fetchall()]

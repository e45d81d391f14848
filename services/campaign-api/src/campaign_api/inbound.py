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


async def record(conn: Connection, message: InboundMessage) -> int | None:
    """Store the message in the transaction's account; None when the provider already delivered it (a duplicate)."""
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

"""Storing inbound messages: every one kept in its account, a provider's repeated callback once."""

from __future__ import annotations

from typing import Any

import psycopg
from campaign_api.inbound import InboundMessage, record
from dispatch.lifecycle import Channel


async def test_an_inbound_message_is_stored_once_however_often_the_provider_calls(
    db: psycopg.AsyncConnection[tuple[Any, ...]],
) -> None:
    message = InboundMessage(Channel.SMS, "+254712000111", "STOP", "api", provider_message_id="mo-1")
    first = await record(db, message)
    again = await record(db, message)
    without_id = await record(db, InboundMessage(Channel.SMS, "+254712000111", "hello", "api"))

    assert first is not None and without_id is not None
    assert again is None
    cur = await db.execute("SELECT body, provider FROM inbound_messages WHERE phone = '+254712000111' ORDER BY id")
    assert await cur.fetchall() == [("STOP", "api"), ("hello", "api")]

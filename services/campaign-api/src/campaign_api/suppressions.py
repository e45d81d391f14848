"""Opt-outs from outside the REST API: a provider's opt-out notification (Africa's Talking's bulk SMS opt-out
callback, for one) suppresses the phone with source 'provider' through `add_suppression`, in the caller's account
transaction, like every other way in."""

from __future__ import annotations

from dispatch.lifecycle import Channel

from campaign_api.compliance import Suppression, SuppressionSource
from campaign_api.errors import InvalidPhone
from campaign_api.phone_numbers import normalise_phone
from campaign_api.repositories import suppressions
from campaign_api.repositories.connection import Connection


async def add_suppression(
    conn: Connection, phone: str, channel: Channel | None, reason: str, source: SuppressionSource
) -> Suppression | None:
    """Suppress the phone (any spelling; Kenyan without a country code) on `channel`, None meaning every channel,
    in the transaction's account; None when it already was. InvalidPhone for a number that is not one."""
    try:
        e164 = normalise_phone(phone)
    except ValueError as exc:
        raise InvalidPhone(str(exc)) from exc
    return await suppressions.insert(conn, e164, channel, reason[:500], source)

"""Every SQL statement on the senders table, and the callback endpoints' sender lookups."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from dispatch.lifecycle import Channel
from dispatch.send_windows import SendWindow, zone_named
from psycopg import sql

from campaign_api.channels import NewSender, Provider, SenderChannelMismatch, SenderRow, UnknownSender
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = (
    "id, name, channel, provider, address, credentials_ref, throughput_per_s, is_default, callback_token,"
    " created_at, updated_at, window_preset, window_start, window_end, window_time_zone"
)

# a new default takes the place of the channel's old one in the same statement's transaction (see CLEAR_DEFAULT)
INSERT_SENDER: Final = f"""
    INSERT INTO senders (name, channel, provider, address, credentials_ref, throughput_per_s, is_default,
                         callback_token, window_preset, window_start, window_end, window_time_zone)
    VALUES (%(name)s, %(channel)s, %(provider)s, %(address)s, %(credentials_ref)s, %(throughput_per_s)s,
            %(is_default)s, %(callback_token)s, %(window_preset)s, %(window_start)s, %(window_end)s,
            %(window_time_zone)s)
    RETURNING {COLUMNS}
"""
INSERT_SENDER_IF_NAME_ABSENT: Final = f"""
    INSERT INTO senders (name, channel, provider, address, credentials_ref, throughput_per_s, is_default,
                         callback_token, window_preset, window_start, window_end, window_time_zone)
    VALUES (%(name)s, %(channel)s, %(provider)s, %(address)s, %(credentials_ref)s, %(throughput_per_s)s,
            %(is_default)s, %(callback_token)s, %(window_preset)s, %(window_start)s, %(window_end)s,
            %(window_time_zone)s)
    ON CONFLICT (account_id, name) DO NOTHING
    RETURNING {COLUMNS}
"""
SELECT_SENDER: Final = f"SELECT {COLUMNS} FROM senders WHERE id = %(id)s"
SELECT_SENDER_BY_NAME: Final = f"SELECT {COLUMNS} FROM senders WHERE name = %(name)s"
LOCK_SENDER: Final = f"SELECT {COLUMNS} FROM senders WHERE id = %(id)s FOR UPDATE"
# served by senders_default_key (partial unique on account and channel)
CLEAR_DEFAULT: Final = (
    "UPDATE senders SET is_default = false WHERE channel = %(channel)s AND is_default AND id <> %(id)s"
)
SAVE_SENDER: Final = f"""
    UPDATE senders
    SET name = %(name)s, address = %(address)s, credentials_ref = %(credentials_ref)s,
        throughput_per_s = %(throughput_per_s)s, is_default = %(is_default)s, callback_token = %(callback_token)s,
        window_preset = %(window_preset)s, window_start = %(window_start)s, window_end = %(window_end)s,
        window_time_zone = %(window_time_zone)s
    WHERE id = %(id)s
    RETURNING {COLUMNS}
"""
DELETE_SENDER: Final = "DELETE FROM senders WHERE id = %(id)s RETURNING id"
# keyset pages newest first, served by the primary key under the account's RLS filter
LIST_SENDERS: Final = "SELECT {columns} FROM senders {where} ORDER BY id DESC LIMIT %(limit)s"
COUNT_SENDERS: Final = "SELECT count(*) FROM senders {where}"
LIST_FILTERS: Final = {"channel": "channel = %(channel)s", "before_id": "id < %(before_id)s"}
SELECT_CHANNEL: Final = "SELECT channel FROM senders WHERE id = %(id)s"
# the senders that set a window of their own: a new account window must meet each of them
SELECT_WINDOWED: Final = f"SELECT {COLUMNS} FROM senders WHERE window_time_zone IS NOT NULL ORDER BY id"
BY_CALLBACK_TOKEN: Final = "SELECT id, account_id, channel, provider, address FROM sender_by_callback_token(%(token)s)"  # noqa: S105
BY_PHONE_NUMBER_ID: Final = (
    "SELECT id, account_id, channel, provider, address FROM whatsapp_sender_by_phone_number_id(%(address)s)"
)


def sender_from_row(row: Sequence[Any]) -> SenderRow:
    """Build a SenderRow from the COLUMNS of a row."""
    return SenderRow(
        id=row[0],
        name=row[1],
        channel=Channel(row[2]),
        provider=Provider(row[3]),
        address=row[4],
        credentials_ref=row[5],
        throughput_per_s=Decimal(row[6]),
        is_default=row[7],
        callback_token=row[8],
        created_at=row[9],
        updated_at=row[10],
        window=_window(row[12], row[13], row[14]),
        window_preset=row[11] if row[14] is not None else None,
    )


def _window(start: Any, end: Any, zone: str | None) -> SendWindow | None:
    # the API validated the zone; one that left the zone database since reads as no window rather than a 500
    if zone is None:
        return None
    try:
        return SendWindow(start, end, zone_named(zone))
    except ValueError:
        return None


def window_params(window: SendWindow | None, preset: str | None) -> dict[str, Any]:
    """The four window columns of a sender (all NULL without a window)."""
    return {
        "window_preset": preset if window else None,
        "window_start": window.start if window else None,
        "window_end": window.end if window else None,
        "window_time_zone": window.zone.key if window else None,
    }


def insert_params(sender: NewSender, token: str) -> dict[str, Any]:
    return {
        "name": sender.name,
        "channel": sender.channel.value,
        "provider": sender.provider.value,
        "address": sender.address,
        "credentials_ref": sender.credentials_ref,
        "throughput_per_s": sender.throughput_per_s,
        "is_default": sender.is_default,
        "callback_token": token,
        **window_params(sender.window, sender.window_preset),
    }


async def clear_default(conn: Connection, channel: Channel, keep_id: int = 0) -> None:
    """No other sender of the channel is the default any more."""
    await conn.execute(CLEAR_DEFAULT, {"channel": channel.value, "id": keep_id})


async def insert(conn: Connection, sender: NewSender, token: str) -> SenderRow:
    """Create a sender (the caller cleared the old default when this one is the default)."""
    cur = await conn.execute(INSERT_SENDER, insert_params(sender, token))
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return sender_from_row(row)


async def ensure(conn: Connection, sender: NewSender, token: str) -> SenderRow:
    """The sender of that name, created when missing (the seed and `make up`)."""
    cur = await conn.execute(INSERT_SENDER_IF_NAME_ABSENT, insert_params(sender, token))
    row = await cur.fetchone()
    if row is None:
        cur = await conn.execute(SELECT_SENDER_BY_NAME, {"name": sender.name})
        row = await cur.fetchone()
    assert row is not None  # it was there, or is now
    return sender_from_row(row)


async def get(conn: Connection, sender_id: int) -> SenderRow | None:
    cur = await conn.execute(SELECT_SENDER, {"id": sender_id})
    row = await cur.fetchone()
    return None if row is None else sender_from_row(row)


async def get_by_name(conn: Connection, name: str) -> SenderRow | None:
    cur = await conn.execute(SELECT_SENDER_BY_NAME, {"name": name})
    row = await cur.fetchone()
    return None if row is None else sender_from_row(row)


async def lock(conn: Connection, sender_id: int) -> SenderRow | None:
    cur = await conn.execute(LOCK_SENDER, {"id": sender_id})
    row = await cur.fetchone()
    return None if row is None else sender_from_row(row)


async def save(conn: Connection, sender: SenderRow) -> SenderRow:
    cur = await conn.execute(
        SAVE_SENDER,
        {
            "id": sender.id,
            "name": sender.name,
            "address": sender.address,
            "credentials_ref": sender.credentials_ref,
            "throughput_per_s": sender.throughput_per_s,
            "is_default": sender.is_default,
            "callback_token": sender.callback_token,
            **window_params(sender.window, sender.window_preset),
        },
    )
    row = await cur.fetchone()
    assert row is not None  # the caller locked it
    return sender_from_row(row)


async def delete(conn: Connection, sender_id: int) -> bool:
    cur = await conn.execute(DELETE_SENDER, {"id": sender_id})
    return await cur.fetchone() is not None


async def list_page(
    conn: Connection, limit: int, before_id: int | None, channel: Channel | None
) -> tuple[list[SenderRow], int]:
    """Up to `limit` senders below before_id, newest first, and how many there are in all (below before_id)."""
    params: dict[str, Any] = {
        "channel": channel.value if channel else None,
        "before_id": before_id,
        "limit": limit,
    }
    where = where_clause(LIST_FILTERS, params)
    cur = await conn.execute(sql.SQL(COUNT_SENDERS).format(where=where), params)
    counted = await cur.fetchone()
    cur = await conn.execute(sql.SQL(LIST_SENDERS).format(columns=sql.SQL(COLUMNS), where=where), params)
    return [sender_from_row(r) for r in await cur.fetchall()], int(counted[0]) if counted else 0


async def with_windows(conn: Connection) -> list[SenderRow]:
    """The transaction's account's senders that have a send window of their own."""
    cur = await conn.execute(SELECT_WINDOWED)
    return [sender_from_row(r) for r in await cur.fetchall()]


async def channel_of(conn: Connection, sender_id: int) -> Channel | None:
    """The channel of the account's sender, or None when the account has no such sender."""
    cur = await conn.execute(SELECT_CHANNEL, {"id": sender_id})
    row = await cur.fetchone()
    return None if row is None else Channel(row[0])


async def by_callback_token(conn: Connection, token: str) -> tuple[int, int, Provider] | None:
    """(sender id, account id, provider) of the sender whose callback URLs carry this token."""
    cur = await conn.execute(BY_CALLBACK_TOKEN, {"token": token})
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), Provider(row[3]))


async def by_phone_number_id(conn: Connection, phone_number_id: str) -> tuple[int, int, Provider] | None:
    """(sender id, account id, provider) of the WhatsApp sender with this phone number id."""
    cur = await conn.execute(BY_PHONE_NUMBER_ID, {"address": phone_number_id})
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), Provider(row[3]))


async def check_campaign_sender(conn: Connection, sender_id: int | None, channel: Channel) -> None:
    """A campaign may name only a sender of its own account (RLS hides the others) and of its channel."""
    if sender_id is None:
        return
    found = await channel_of(conn, sender_id)
    if found is None:
        raise UnknownSender(sender_id)
    if found is not channel:
        raise SenderChannelMismatch(sender_id, found.value, channel.value)

"""Every SQL statement on suppressions (the send's and the worker's lookups live beside their own statements)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from dispatch.lifecycle import Channel
from psycopg import sql

from campaign_api.compliance import Suppression, SuppressionSource
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = "id, phone, channel, reason, source, created_at"

# suppressions_account_phone_channel_key decides duplicates: no row back means the phone is already suppressed there
INSERT_SUPPRESSION: Final = f"""
    INSERT INTO suppressions (phone, channel, reason, source)
    VALUES (%(phone)s, %(channel)s, %(reason)s, %(source)s)
    ON CONFLICT (account_id, phone, channel) DO NOTHING
    RETURNING {COLUMNS}
"""

# served by suppressions_account_id_idx; row-level security adds the account
LIST_SUPPRESSIONS: Final = f"SELECT {COLUMNS} FROM suppressions {{where}} ORDER BY id DESC LIMIT %(limit)s"
LIST_FILTERS: Final = {"before_id": "id < %(before_id)s", "phone": "phone = %(phone)s"}

DELETE_SUPPRESSION: Final = f"DELETE FROM suppressions WHERE id = %(id)s RETURNING {COLUMNS}"

# a recipient's START lifts what their own keyword set on that channel (or on every channel), never an operator's
# or a provider's suppression
DELETE_KEYWORD_SUPPRESSIONS: Final = """
    DELETE FROM suppressions
    WHERE account_id = current_setting('app.account_id')::bigint
      AND phone = %(phone)s AND source = 'keyword' AND (channel IS NULL OR channel = %(channel)s)
"""


def suppression_from_row(row: Sequence[Any]) -> Suppression:
    return Suppression(
        id=row[0],
        phone=row[1],
        channel=None if row[2] is None else Channel(row[2]),
        reason=row[3],
        source=SuppressionSource(row[4]),
        created_at=row[5],
    )


async def insert(
    conn: Connection, phone: str, channel: Channel | None, reason: str, source: SuppressionSource
) -> Suppression | None:
    """Suppress the phone (E.164) on the channel (None: every channel); None when it already was."""
    params = {"phone": phone, "channel": None if channel is None else str(channel), "reason": reason, "source": source}
    cur = await conn.execute(INSERT_SUPPRESSION, params)
    row = await cur.fetchone()
    return None if row is None else suppression_from_row(row)


async def list_page(conn: Connection, before_id: int | None, limit: int, phone: str | None) -> list[Suppression]:
    """The newest suppressions below before_id (keyset), at most limit, of one phone when given."""
    params: dict[str, Any] = {"before_id": before_id, "limit": limit, "phone": phone}
    query = sql.SQL(LIST_SUPPRESSIONS).format(where=where_clause(LIST_FILTERS, params))
    cur = await conn.execute(query, params)
    return [suppression_from_row(row) for row in await cur.fetchall()]


async def delete(conn: Connection, suppression_id: int) -> Suppression | None:
    """Lift one suppression; None when there is no such one (in this account)."""
    cur = await conn.execute(DELETE_SUPPRESSION, {"id": suppression_id})
    row = await cur.fetchone()
    return None if row is None else suppression_from_row(row)


async def delete_keyword_suppressions(conn: Connection, phone: str, channel: Channel) -> int:
    """Lift the suppressions the phone's own stop keyword set on `channel` (or every channel); how many."""
    cur = await conn.execute(DELETE_KEYWORD_SUPPRESSIONS, {"phone": phone, "channel": str(channel)})
    return cur.rowcount

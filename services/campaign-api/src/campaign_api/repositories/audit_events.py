"""Every SQL statement on the audit_events table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from psycopg import sql
from psycopg.types.json import Jsonb

from campaign_api.accounts import AuditEvent, Caller
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = "id, account_id, api_key_id, action, target_type, target_id, changes, created_at"

# account_id comes from the transaction's account (the column DEFAULT), like every other account-owned row
INSERT_EVENT: Final = """
    INSERT INTO audit_events (api_key_id, action, target_type, target_id, changes)
    VALUES (%(api_key_id)s, %(action)s, %(target_type)s, %(target_id)s, %(changes)s)
"""
# served by audit_events_account_id_idx; row-level security adds the account
LIST_EVENTS: Final = f"SELECT {COLUMNS} FROM audit_events {{where}} ORDER BY id DESC LIMIT %(limit)s"
LIST_FILTERS: Final = {"before_id": "id < %(before_id)s"}


async def record(
    conn: Connection,
    caller: Caller,
    action: str,
    target_type: str,
    target_id: int | None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit row inside the caller's transaction, so the change and its record commit together."""
    params = {
        "api_key_id": caller.key_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "changes": Jsonb(dict(changes or {})),
    }
    await conn.execute(INSERT_EVENT, params)


def event_from_row(row: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=row[0],
        account_id=row[1],
        api_key_id=row[2],
        action=row[3],
        target_type=row[4],
        target_id=row[5],
        changes=dict(row[6]),
        created_at=row[7],
    )


async def list_page(conn: Connection, before_id: int | None, limit: int) -> list[AuditEvent]:
    """The newest events below before_id (keyset), at most limit."""
    params: dict[str, Any] = {"before_id": before_id, "limit": limit}
    query = sql.SQL(LIST_EVENTS).format(where=where_clause(LIST_FILTERS, params))
    cur = await conn.execute(query, params)
    return [event_from_row(row) for row in await cur.fetchall()]

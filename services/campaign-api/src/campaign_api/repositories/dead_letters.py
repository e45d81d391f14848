"""Reading an account's dead letters: failed messages the worker sent to the DLQ, with why and when.

The writes (the worker's record, a replay) are dispatch.outbound_messages'; this module only lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg import sql

from campaign_api.repositories.connection import Connection


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message that failed for good: its reason (a DeadLetterReason value), last error and attempts."""

    id: int
    campaign_id: int
    customer_id: int
    reason: str
    last_error: str | None
    attempts: int
    dead_lettered_at: datetime


# served by outbound_messages_dead_letters_idx (account_id, id DESC) WHERE dead_lettered_at IS NOT NULL; row-level
# security adds the account. A replayed message has dead_lettered_at NULL again, so it leaves the list
LIST_DEAD_LETTERS: Final = """
    SELECT id, campaign_id, customer_id, dead_letter_reason, last_error, retry_count + 1, dead_lettered_at
    FROM outbound_messages
    WHERE dead_lettered_at IS NOT NULL AND status = 'failed' {where}
    ORDER BY id DESC
    LIMIT %(limit)s
"""
LIST_FILTERS: Final = {
    "before_id": "id < %(before_id)s",
    "campaign_id": "campaign_id = %(campaign_id)s",
    "reason": "dead_letter_reason = %(reason)s",
}


async def list_page(
    conn: Connection, *, limit: int, before_id: int | None, campaign_id: int | None, reason: str | None
) -> list[DeadLetter]:
    """The newest dead letters below before_id (keyset) matching the filters, at most `limit`."""
    params: dict[str, Any] = {"limit": limit, "before_id": before_id, "campaign_id": campaign_id, "reason": reason}
    # the filters extend the fixed WHERE; no fragment ever interpolates a value
    where = sql.SQL("").join(sql.SQL(" AND " + f) for name, f in LIST_FILTERS.items() if params[name] is not None)
    query = sql.SQL(LIST_DEAD_LETTERS).format(where=where)
    cur = await conn.execute(query, params)
    return [_from_row(r) for r in await cur.fetchall()]


def _from_row(row: Sequence[Any]) -> DeadLetter:
    return DeadLetter(
        id=int(row[0]),
        campaign_id=int(row[1]),
        customer_id=int(row[2]),
        reason=str(row[3]),
        last_error=row[4],
        attempts=int(row[5]),
        dead_lettered_at=row[6],
    )

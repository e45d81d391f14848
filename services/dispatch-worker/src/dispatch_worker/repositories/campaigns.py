"""The worker's one statement on campaigns: completion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

# One statement decides completion: the row lock on the campaign plus the re-check of status = 'sending' make
# concurrent callers agree, and running it after the commit of the outcomes means the last committer sees every row.
COMPLETE: Final = """
    UPDATE campaigns c
    SET status = CASE WHEN EXISTS (
                     SELECT 1 FROM outbound_messages m WHERE m.campaign_id = c.id AND m.status = 'sent')
                 THEN 'sent' ELSE 'failed' END,
        completed_at = now()
    WHERE c.id = ANY(%(ids)s::bigint[])
      AND c.status = 'sending'
      AND NOT EXISTS (
          SELECT 1 FROM outbound_messages m
          WHERE m.campaign_id = c.id AND m.status IN ('pending', 'sending'))
"""


async def complete_finished(conn: AsyncConnection[TupleRow], campaign_ids: Sequence[int]) -> int:
    """Move each given campaign whose messages are all terminal to sent (or failed); return how many moved."""
    if not campaign_ids:
        return 0
    cur = await conn.execute(COMPLETE, {"ids": sorted(set(campaign_ids))})
    return cur.rowcount

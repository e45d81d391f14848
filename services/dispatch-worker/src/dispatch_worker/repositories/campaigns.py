"""The worker's one statement on campaigns: completion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

# One statement decides completion, the database function of migration 0003 (the relay's sweep calls it too):
# running it after the commit of the outcomes means the last committer sees every row.
COMPLETE: Final = """
    SELECT complete_campaigns(%(ids)s::bigint[])
"""


async def complete_finished(conn: AsyncConnection[TupleRow], campaign_ids: Sequence[int]) -> int:
    """Move each given campaign whose messages are all terminal to sent (or failed); return how many moved."""
    if not campaign_ids:
        return 0
    cur = await conn.execute(COMPLETE, {"ids": sorted(set(campaign_ids))})
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0

"""Every SQL statement on customer_imports, and the import's staging table and merge into customers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from campaign_api.import_rows import Rejection, StagedRow
from campaign_api.repositories.connection import Connection

COLUMNS: Final = (
    "id, status, file_name, rows_read, rows_imported, rows_updated, rows_rejected, rejected, error, created_at,"
    " updated_at, finished_at"
)

INSERT_IMPORT: Final = f"INSERT INTO customer_imports (file_name) VALUES (%(file_name)s) RETURNING {COLUMNS}"
SELECT_IMPORT: Final = f"SELECT {COLUMNS} FROM customer_imports WHERE id = %(id)s"
# progress, committed on its own connection while the import's transaction is still open
SET_PROGRESS: Final = """
    UPDATE customer_imports
    SET status = 'running', rows_read = %(rows_read)s, rows_rejected = %(rows_rejected)s
    WHERE id = %(id)s
"""
SET_FINISHED: Final = """
    UPDATE customer_imports
    SET status = %(status)s, rows_read = %(rows_read)s, rows_imported = %(rows_imported)s,
        rows_updated = %(rows_updated)s, rows_rejected = %(rows_rejected)s, rejected = %(rejected)s,
        error = %(error)s, finished_at = now()
    WHERE id = %(id)s
"""

# the import's sorts (duplicates, the merge's DISTINCT ON) stay in memory for a million rows instead of spilling
TUNE_TRANSACTION: Final = "SELECT set_config('work_mem', '128MB', true)"
# dropped at commit: the staging rows never outlive the import's transaction
CREATE_STAGING: Final = """
    CREATE TEMP TABLE import_rows (
        row_number        bigint NOT NULL,
        phone             text NOT NULL,
        first_name        text,
        last_name         text,
        location          text,
        preferred_product text,
        attributes        jsonb NOT NULL
    ) ON COMMIT DROP
"""
COPY_STAGING: Final = (
    "COPY import_rows (row_number, phone, first_name, last_name, location, preferred_product, attributes) FROM STDIN"
)
# a phone given twice in the file: the first row wins, the later ones are reported
SELECT_DUPLICATES: Final = """
    SELECT row_number, first_row FROM (
        SELECT row_number, min(row_number) OVER (PARTITION BY phone) AS first_row FROM import_rows
    ) AS numbered
    WHERE row_number <> first_row
    ORDER BY row_number
    LIMIT %(limit)s
"""
COUNT_DUPLICATES: Final = "SELECT count(*) - count(DISTINCT phone) FROM import_rows"
# one merge for the whole file: new phones are inserted, known ones take the file's non-empty cells (an empty cell
# never clears a stored value), and a row the file would not change is not written at all, so importing the same
# file twice reports no update. xmax = 0 marks a row this statement inserted.
MERGE: Final = """
    WITH first_rows AS (
        SELECT DISTINCT ON (phone) phone, first_name, last_name, location, preferred_product, attributes
        FROM import_rows
        ORDER BY phone, row_number
    ), merged AS (
        INSERT INTO customers AS c (phone, first_name, last_name, location, preferred_product, attributes)
        SELECT phone, first_name, last_name, location, preferred_product, attributes FROM first_rows
        ON CONFLICT (account_id, phone) DO UPDATE SET
            first_name = coalesce(EXCLUDED.first_name, c.first_name),
            last_name = coalesce(EXCLUDED.last_name, c.last_name),
            location = coalesce(EXCLUDED.location, c.location),
            preferred_product = coalesce(EXCLUDED.preferred_product, c.preferred_product),
            attributes = c.attributes || EXCLUDED.attributes
        WHERE (c.first_name, c.last_name, c.location, c.preferred_product, c.attributes)
            IS DISTINCT FROM (coalesce(EXCLUDED.first_name, c.first_name), coalesce(EXCLUDED.last_name, c.last_name),
                              coalesce(EXCLUDED.location, c.location),
                              coalesce(EXCLUDED.preferred_product, c.preferred_product),
                              c.attributes || EXCLUDED.attributes)
        RETURNING (c.xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
"""


@dataclass(frozen=True, slots=True)
class CustomerImport:
    """An import job as its status endpoint shows it."""

    id: int
    status: str
    file_name: str | None
    rows_read: int
    rows_imported: int
    rows_updated: int
    rows_rejected: int
    rejected: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def import_from_row(row: Sequence[Any]) -> CustomerImport:
    """Build a CustomerImport from the COLUMNS of a row."""
    return CustomerImport(*row)


async def insert(conn: Connection, file_name: str | None) -> CustomerImport:
    """A queued import job."""
    cur = await conn.execute(INSERT_IMPORT, {"file_name": file_name})
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING answers its row
    return import_from_row(row)


async def get(conn: Connection, import_id: int) -> CustomerImport | None:
    """One import job, or None."""
    cur = await conn.execute(SELECT_IMPORT, {"id": import_id})
    row = await cur.fetchone()
    return None if row is None else import_from_row(row)


async def set_progress(conn: Connection, import_id: int, rows_read: int, rows_rejected: int) -> None:
    """Record how far the import has read."""
    await conn.execute(SET_PROGRESS, {"id": import_id, "rows_read": rows_read, "rows_rejected": rows_rejected})


async def set_finished(
    conn: Connection,
    import_id: int,
    *,
    status: str,
    counts: tuple[int, int, int, int],
    rejected: Sequence[Rejection],
    error: str | None = None,
) -> None:
    """Record the outcome: counts are (read, imported, updated, rejected)."""
    rows_read, rows_imported, rows_updated, rows_rejected = counts
    details = [{"row": r.row, "column": r.column, "reason": r.reason} for r in rejected]
    params = {
        "id": import_id,
        "status": status,
        "rows_read": rows_read,
        "rows_imported": rows_imported,
        "rows_updated": rows_updated,
        "rows_rejected": rows_rejected,
        "rejected": Jsonb(details),
        "error": error,
    }
    await conn.execute(SET_FINISHED, params)


async def create_staging(conn: Connection) -> None:
    """The transaction's staging table (and the memory its sorts may use)."""
    await conn.execute(TUNE_TRANSACTION)
    await conn.execute(CREATE_STAGING)


@contextlib.asynccontextmanager
async def staging_copy(conn: Connection) -> AsyncIterator[Callable[[Iterable[StagedRow]], Awaitable[None]]]:
    """One COPY into the staging table for the whole file: the writer it yields takes checked rows, chunk by chunk."""
    async with conn.cursor().copy(COPY_STAGING) as copy:

        async def write(rows: Iterable[StagedRow]) -> None:
            for row in rows:
                await copy.write_row(row)

        yield write


async def duplicates(conn: Connection, limit: int) -> tuple[int, list[tuple[int, int]]]:
    """How many staged rows repeat an earlier row's phone, and the first `limit` as (row, first row)."""
    cur = await conn.execute(COUNT_DUPLICATES)
    counted = await cur.fetchone()
    total = int(counted[0]) if counted else 0
    if total == 0:
        return 0, []
    cur = await conn.execute(SELECT_DUPLICATES, {"limit": limit})
    return total, [(int(row[0]), int(row[1])) for row in await cur.fetchall()]


async def merge(conn: Connection) -> tuple[int, int]:
    """Upsert the staged rows into the account's customers; (inserted, updated)."""
    cur = await conn.execute(MERGE)
    row = await cur.fetchone()
    assert row is not None  # an aggregate answers one row
    return int(row[0]), int(row[1])

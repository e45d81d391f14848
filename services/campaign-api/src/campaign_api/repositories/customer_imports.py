"""Every SQL statement on customer_imports, and the import's staging table and merge into customers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from campaign_api.import_rows import Rejection
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
# the rows as the row checks wrote them (CSV: an unquoted empty cell is NULL)
COPY_STAGING: Final = (
    "COPY import_rows (row_number, phone, first_name, last_name, location, preferred_product, attributes)"
    " FROM STDIN (FORMAT csv)"
)
# the planner's row estimates for the merge (a temporary table is never analysed by autovacuum)
ANALYZE_STAGING: Final = "ANALYZE import_rows"
# a phone given twice in the file: the first row wins, the later ones are reported
SELECT_DUPLICATES: Final = """
    SELECT row_number, first_row FROM (
        SELECT row_number, min(row_number) OVER (PARTITION BY phone) AS first_row FROM import_rows
    ) AS numbered
    WHERE row_number <> first_row
    ORDER BY row_number
    LIMIT %(limit)s
"""
# what a file's cell does to a stored customer: an empty cell never clears a stored value, attributes are merged
KEPT_OR_GIVEN: Final = """
    coalesce({new}.first_name, c.first_name), coalesce({new}.last_name, c.last_name),
    coalesce({new}.location, c.location), coalesce({new}.preferred_product, c.preferred_product),
    c.attributes || {new}.attributes
"""
# One merge for the whole file, set-based in both directions: the file's known phones whose cells change the
# stored row are updated (one join; a row the file would not change is neither written nor locked, so importing
# the same file twice reads and changes nothing), and its new phones are inserted. The insert keeps ON CONFLICT
# for a phone another request added after this statement's snapshot (it is then merged like a known one; xmax = 0
# marks a row the insert created). Answers the distinct phones staged, the rows inserted and the rows updated.
MERGE: Final = f"""
    WITH first_rows AS MATERIALIZED (
        SELECT DISTINCT ON (phone) phone, first_name, last_name, location, preferred_product, attributes
        FROM import_rows
        ORDER BY phone, row_number
    ), changed AS (
        UPDATE customers AS c
        SET (first_name, last_name, location, preferred_product, attributes) = ({KEPT_OR_GIVEN.format(new="f")})
        FROM first_rows AS f
        WHERE c.phone = f.phone
            AND (c.first_name, c.last_name, c.location, c.preferred_product, c.attributes)
                IS DISTINCT FROM ({KEPT_OR_GIVEN.format(new="f")})
        RETURNING c.id
    ), added AS (
        INSERT INTO customers AS c (phone, first_name, last_name, location, preferred_product, attributes)
        SELECT f.phone, f.first_name, f.last_name, f.location, f.preferred_product, f.attributes
        FROM first_rows AS f
        WHERE NOT EXISTS (SELECT FROM customers AS known WHERE known.phone = f.phone)
        ON CONFLICT (account_id, phone) DO UPDATE
        SET (first_name, last_name, location, preferred_product, attributes) = ({KEPT_OR_GIVEN.format(new="EXCLUDED")})
        WHERE (c.first_name, c.last_name, c.location, c.preferred_product, c.attributes)
            IS DISTINCT FROM ({KEPT_OR_GIVEN.format(new="EXCLUDED")})
        RETURNING (c.xmax = 0) AS inserted
    )
    SELECT (SELECT count(*) FROM first_rows),
           (SELECT count(*) FILTER (WHERE inserted) FROM added),
           (SELECT count(*) FROM changed) + (SELECT count(*) FILTER (WHERE NOT inserted) FROM added)
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
async def staging_copy(conn: Connection) -> AsyncIterator[Callable[[bytes], Awaitable[None]]]:
    """One COPY into the staging table for the whole file: the writer it yields takes checked chunks' CSV."""
    async with conn.cursor().copy(COPY_STAGING) as copy:
        yield copy.write


async def duplicates(conn: Connection, limit: int) -> list[tuple[int, int]]:
    """The first `limit` staged rows that repeat an earlier row's phone, as (row, first row)."""
    cur = await conn.execute(SELECT_DUPLICATES, {"limit": limit})
    return [(int(row[0]), int(row[1])) for row in await cur.fetchall()]


async def merge(conn: Connection) -> tuple[int, int, int]:
    """Upsert the staged rows into the account's customers; (distinct phones staged, inserted, updated)."""
    await conn.execute(ANALYZE_STAGING)
    cur = await conn.execute(MERGE)
    row = await cur.fetchone()
    assert row is not None  # the SELECT of aggregates answers one row
    return int(row[0]), int(row[1]), int(row[2])

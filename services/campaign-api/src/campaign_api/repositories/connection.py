"""The connection types the repositories take, and the one way a use case opens an account's transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final, TypeAlias

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

Connection: TypeAlias = AsyncConnection[TupleRow]
Pool: TypeAlias = AsyncConnectionPool[Connection]

# the role row-level security restricts; the request pool's connections switch to it once, when they are made
APP_ROLE: Final = "campaign_app"
SET_APP_ROLE: Final = "SET ROLE campaign_app"
# the same for one transaction only (the seed and the CLI, on a connection of their own)
SET_LOCAL_APP_ROLE: Final = "SET LOCAL ROLE campaign_app"
# transaction-local: the account ends with the transaction, so a pooled connection never carries it to the next
SET_ACCOUNT: Final = "SELECT set_config('app.account_id', %(account_id)s, true)"


async def use_app_role(conn: Connection) -> None:
    """The request pool's configure callback: every request connection runs as campaign_app, which RLS binds."""
    await conn.execute(SET_APP_ROLE)
    await conn.commit()


async def enter_account(conn: Connection, account_id: int) -> None:
    """Bind the rest of the current transaction to the account (what the RLS policies and column DEFAULTs read)."""
    await conn.execute(SET_ACCOUNT, {"account_id": str(account_id)})


@contextlib.asynccontextmanager
async def account_reading(pool: Pool, account_id: int) -> AsyncIterator[Connection]:
    """Reads of one account without BEGIN or COMMIT: pipeline mode on the connection in autocommit. The extended
    protocol runs everything before a Sync as one implicit transaction; a fetch inside the block only flushes, and
    the Sync is sent when the block ends, so the account (bound for that transaction) holds for every statement of
    the block and for none after it. The account and the statements up to the first fetch travel in one round trip,
    the Sync in the next. Errors surface at a fetch, not at `execute`, so only read paths that catch nothing use it.
    """
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            async with conn.pipeline():
                await enter_account(conn, account_id)
                yield conn
        finally:
            with contextlib.suppress(psycopg.Error):
                await conn.set_autocommit(False)
            if conn.autocommit:
                # not idle (a broken connection): the pool must not hand it out in autocommit, so it drops it
                await conn.close()


@contextlib.asynccontextmanager
async def account_transaction(pool: Pool, account_id: int) -> AsyncIterator[Connection]:
    """A pooled connection inside a transaction bound to the account; commits when the block ends without error."""
    async with pool.connection() as conn, conn.transaction():
        await enter_account(conn, account_id)
        yield conn

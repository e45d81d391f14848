"""The connection types the repositories take, and the one way a use case opens an account's transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final, TypeAlias

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
    """account_transaction in pipeline mode, for reads: BEGIN, the account and the statements up to the first
    fetch travel in one round trip, and COMMIT in the next. Errors surface at a fetch, not at `execute`, so only
    read paths that catch nothing use it."""
    async with pool.connection() as conn, conn.pipeline(), conn.transaction():
        await enter_account(conn, account_id)
        yield conn


@contextlib.asynccontextmanager
async def account_transaction(pool: Pool, account_id: int) -> AsyncIterator[Connection]:
    """A pooled connection inside a transaction bound to the account; commits when the block ends without error."""
    async with pool.connection() as conn, conn.transaction():
        await enter_account(conn, account_id)
        yield conn

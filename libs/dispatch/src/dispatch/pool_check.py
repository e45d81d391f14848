"""The connection pools' check at checkout, shared by campaign-api and the dispatch worker."""

from __future__ import annotations

import select

from psycopg import AsyncConnection, pq
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool


async def check_pooled_connection(conn: AsyncConnection[TupleRow]) -> None:
    """The pools' check at checkout, without a round trip while the connection looks sound.

    An idle connection has nothing to read: a readable socket means the server said something unasked, which is
    how a restart or a terminated backend shows (its FATAL message, then EOF). Only then, or when libpq already
    knows it is broken, does the full check (a query) run; it fails, and the pool replaces the connection before a
    caller gets it.
    """
    pgconn = conn.pgconn
    if (
        pgconn.status != pq.ConnStatus.OK
        or pgconn.transaction_status != pq.TransactionStatus.IDLE
        or select.select([pgconn.socket], [], [], 0)[0]
    ):
        await AsyncConnectionPool.check_connection(conn)

"""Fixtures of the outbox relay tests: seeded outbox rows, a private topology, a cuttable TCP proxy to RabbitMQ.

The database_url, amqp_url and run_id fixtures come from service_kit.testing (loaded by tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aio_pika
import psycopg
import pytest
from dispatch.relay import RelayMetrics
from dispatch.topology import Topology, delete_topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import ApplySchema, throwaway_database

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="session")
async def outbox_pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """A connection pool on this session's database."""
    async with AsyncConnectionPool(database_url, min_size=1, max_size=8, open=False) as opened:
        yield opened


@pytest.fixture
async def topology(amqp_url: str, run_id: str) -> AsyncIterator[Topology]:
    """A topology with this test's own prefix; its queues are deleted afterwards."""
    declared = Topology(prefix=f"test_outbox_{run_id}", retry_delays_s=(0.2, 0.4, 0.6))
    yield declared
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await delete_topology(await connection.channel(), declared)


@pytest.fixture
def metrics() -> RelayMetrics:
    """Relay metrics in a private registry."""
    return RelayMetrics.register(CollectorRegistry())


async def insert_outbox_rows(database_url: str, count: int, *, notify: bool = True) -> list[int]:
    """What the send endpoint commits: a sending campaign, one pending unpublished row per customer, NOTIFY outbox."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(USE_TEST_ACCOUNT)
        cur = await conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template)"
            " VALUES ('c', 'sms', 'sending', 'Hi') RETURNING id"
        )
        row = await cur.fetchone()
        assert row is not None
        cur = await conn.execute(
            "INSERT INTO customers (phone) SELECT '+1666' || lpad((nextval('outbox_phone') %% 10000000)::text, 7, '0')"
            " FROM generate_series(1, %s) RETURNING id",
            (count,),
        )
        customers = [r[0] for r in await cur.fetchall()]
        cur = await conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id, status, traceparent)"
            " SELECT %s, c, 'pending', %s FROM unnest(%s::bigint[]) c RETURNING id",
            (row[0], TRACEPARENT, customers),
        )
        ids = sorted(r[0] for r in await cur.fetchall())
        if notify:
            await conn.execute("NOTIFY outbox")
    return ids


@pytest.fixture(scope="session", autouse=True)
def outbox_phone_sequence(database_url: str) -> None:
    """Unique phone numbers for every row the relay tests insert."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS outbox_phone START 1000000")


async def unpublished(database_url: str, ids: list[int]) -> int:
    """How many of `ids` the relay has not marked published."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM outbound_messages WHERE id = ANY(%s) AND published_at IS NULL", (ids,)
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database: no other suite's rows (due campaigns, counts) are seen here."""
    with throwaway_database(apply_schema) as url:
        yield url

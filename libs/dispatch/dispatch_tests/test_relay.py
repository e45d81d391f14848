"""The outbox relay against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import aio_pika
from dispatch.codec import decode_jobs
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings, relay_running
from dispatch.topology import Topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from test_kit.tcp_proxy import CuttableProxy

from .conftest import TRACEPARENT, insert_outbox_rows, unpublished

FAST = RelaySettings(batch_size=200, sweep_interval_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.3)


async def wait_until_published(database_url: str, ids: list[int], timeout_s: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while await unpublished(database_url, ids):
        assert loop.time() < deadline, f"{await unpublished(database_url, ids)} rows still unpublished"
        await asyncio.sleep(0.05)


async def drain_work_queue(amqp_url: str, topology: Topology) -> list[tuple[int, dict[str, str]]]:
    """Every message named by the jobs in the work queue: (outbound_message_id, its job's headers)."""
    jobs: list[tuple[int, dict[str, str]]] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(topology.work_queue, passive=True)
        while (message := await queue.get(fail=False)) is not None:
            headers = {k: str(v) for k, v in message.headers.items()}
            jobs += [(message_id, headers) for message_id in decode_jobs(message.body)]
            await message.ack()
    return jobs


async def test_rows_are_published_once_with_their_trace_context_and_marked(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 450)
    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, FAST)
    running = asyncio.create_task(relay.run())
    await wait_until_published(database_url, ids)
    await relay.stop()
    await running
    jobs = await drain_work_queue(amqp_url, topology)
    assert sorted(i for i, _ in jobs) == ids
    assert all(h.get("traceparent", "").startswith("00-0af7651916cd43dd8448eb211c80319c-") for _, h in jobs)
    assert TRACEPARENT.split("-")[1] in str(jobs[0][1]["traceparent"])
    assert metrics.published._value.get() == 450


async def test_a_notify_wakes_the_relay_before_its_sweep(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, RelaySettings(sweep_interval_s=60))
    running = asyncio.create_task(relay.run())
    await asyncio.sleep(0.5)  # the relay is idle, its next sweep a minute away
    ids = await insert_outbox_rows(database_url, 5, notify=True)
    await wait_until_published(database_url, ids, timeout_s=3.0)
    await relay.stop()
    await running
    assert sorted(i for i, _ in await drain_work_queue(amqp_url, topology)) == ids


async def test_rows_committed_while_the_broker_is_unreachable_are_published_after_it_returns(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    parts = urlsplit(amqp_url)
    proxy = CuttableProxy(parts.hostname or "localhost", parts.port or 5672)
    await proxy.start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"))
    relay = OutboxRelay(outbox_pool, via_proxy, topology, metrics, FAST)
    running = asyncio.create_task(relay.run())
    try:
        first = await insert_outbox_rows(database_url, 10)
        await wait_until_published(database_url, first)
        proxy.cut()
        during = await insert_outbox_rows(database_url, 300)
        await asyncio.sleep(1.0)
        assert await unpublished(database_url, during) == 300  # nothing marked without a confirm
        proxy.restore()
        await wait_until_published(database_url, during)
    finally:
        await relay.stop()
        await running
        await proxy.close()
    counts = Counter(i for i, _ in await drain_work_queue(amqp_url, topology))
    assert set(counts) == set(first) | set(during)


async def test_two_relays_publish_each_row_once(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 2000, notify=False)
    settings = RelaySettings(batch_size=100, sweep_interval_s=0.1)
    relays = [OutboxRelay(outbox_pool, amqp_url, topology, metrics, settings) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    await wait_until_published(database_url, ids)
    for relay in relays:
        await relay.stop()
    await asyncio.gather(*tasks)
    counts = Counter(i for i, _ in await drain_work_queue(amqp_url, topology))
    assert sorted(counts) == ids
    assert set(counts.values()) == {1}


async def test_the_sweep_completes_a_campaign_whose_messages_are_all_terminal(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 3)
    async with outbox_pool.connection() as conn:
        await conn.execute(
            "UPDATE outbound_messages SET status = CASE WHEN id = %s THEN 'sent' ELSE 'failed' END,"
            " sent_at = now() WHERE id = ANY(%s)",
            (ids[0], ids),
        )
    settings = RelaySettings(sweep_interval_s=0.1, completion_sweep_interval_s=0.1)
    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, settings)
    running = asyncio.create_task(relay.run())
    try:
        for _ in range(50):
            async with outbox_pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT c.status, c.completed_at IS NOT NULL FROM campaigns c"
                    " JOIN outbound_messages m ON m.campaign_id = c.id WHERE m.id = %s",
                    (ids[0],),
                )
                state = await cur.fetchone()
            if state and state[0] != "sending":
                break
            await asyncio.sleep(0.1)
    finally:
        await relay.stop()
        await running
    assert state == ("sent", True)


async def test_the_relay_runs_for_the_app_lifetime_and_stops_after_its_batch(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology
) -> None:
    ids = await insert_outbox_rows(database_url, 50)
    async with relay_running(outbox_pool, amqp_url, CollectorRegistry(), topology, FAST) as relay:
        await wait_until_published(database_url, ids)
    assert relay.metrics.published._value.get() == 50
    assert sorted(i for i, _ in await drain_work_queue(amqp_url, topology)) == ids

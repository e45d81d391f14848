"""The relay's backpressure against real RabbitMQ: the work queue's ready backlog stays under the high-water mark,
the outbox keeps the rest, and retries are never held back by it."""

from __future__ import annotations

import asyncio
import dataclasses

import aio_pika
import psycopg
from dispatch.codec import decode_jobs
from dispatch.publisher import JobPublisher, OutgoingJob
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology
from psycopg_pool import AsyncConnectionPool

from .conftest import insert_outbox_rows, unpublished

HIGH_WATER = 50
# jobs of 16 messages, as campaign-api packs them: the mark still bounds messages
BOUNDED = RelaySettings(
    batch_size=20, sweep_interval_s=0.2, high_water=HIGH_WATER, high_water_poll_s=0.05, backoff_initial_s=0.05
)
# a job per message: the mark is then exact
ONE_PER_JOB = dataclasses.replace(BOUNDED, job_size=1)


async def ready_jobs(amqp_url: str, topology: Topology) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(topology.work_queue, passive=True)
        return queue.declaration_result.message_count or 0


async def wait_for(condition_name: str, check: object, timeout_s: float = 20.0) -> None:
    """Poll an async predicate with a generous timeout."""
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {condition_name}"
        await asyncio.sleep(0.05)


async def take(amqp_url: str, topology: Topology, count: int) -> list[int]:
    """Consume and ack jobs, as a worker does, until `count` messages are taken or none is left; their ids."""
    taken: list[int] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(topology.work_queue, passive=True)
        while len(taken) < count and (message := await queue.get(fail=False)) is not None:
            taken += decode_jobs(message.body)
            await message.ack()
    return taken


async def test_the_ready_backlog_stays_under_the_high_water_mark_and_everything_goes_out_once(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 230)
    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, BOUNDED)
    running = asyncio.create_task(relay.run())
    consumed: list[int] = []
    packed = False  # some held-back moment had fewer jobs than messages waiting
    try:
        while len(consumed) < len(ids):
            # the relay filled the queue up to the mark and holds the rest in the outbox
            held = metrics.held_back._value.get()
            await wait_for(
                "the relay to hold back or finish",
                lambda held=held: _held_or_done(metrics, held, database_url, ids),
            )
            waiting = len(ids) - await unpublished(database_url, ids) - len(consumed)
            assert waiting <= HIGH_WATER, f"{waiting} messages wait in the broker"
            ready = await ready_jobs(amqp_url, topology)
            assert ready <= waiting, f"{ready} jobs for {waiting} messages"
            packed |= ready < waiting
            consumed += await take(amqp_url, topology, 40)
    finally:
        await relay.stop()
        await running
    assert sorted(consumed) == ids, "every row was published exactly once"
    assert packed, "the messages travel packed, several to a job"
    assert metrics.held_back._value.get() > 0


async def _held_or_done(metrics: RelayMetrics, held_before: float, database_url: str, ids: list[int]) -> bool:
    return metrics.held_back._value.get() > held_before or await unpublished(database_url, ids) == 0


async def test_retries_return_to_a_work_queue_at_its_high_water_mark(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 80)
    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, ONE_PER_JOB)
    running = asyncio.create_task(relay.run())
    try:
        await wait_for("the relay to hold back", lambda: _held_or_done(metrics, 0, database_url, ids))
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            publisher = await JobPublisher.open(await connection.channel(publisher_confirms=True), topology)
            await publisher.publish_retry([OutgoingJob(999_001)], tier=1)  # what a worker does for a transient error

        async def retried() -> bool:
            return await ready_jobs(amqp_url, topology) > HIGH_WATER

        await wait_for("the retry to return to the work queue", retried)
    finally:
        await relay.stop()
        await running
    assert await unpublished(database_url, ids) == len(ids) - HIGH_WATER, "the outbox keeps the rest meanwhile"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        # the suite's other relays share this database: leave them no rows of this test
        await conn.execute("DELETE FROM outbound_messages WHERE id = ANY(%s)", (ids,))

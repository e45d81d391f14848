"""Outcomes are recorded as sends complete: one slow provider answer holds only its own message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dispatch.codec import encode_job
from dispatch_worker.amqp.consumer import Consumer
from dispatch_worker.domain import OutgoingMessage, RetryPolicy, SendOutcome
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.usecases.deliver import Deliver
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import seed_campaign, statuses
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue


@dataclass
class OneSlowSender:
    """Accepts every message at once, except `slow_id`, whose answer waits until `release` is set."""

    slow_id: int
    release: asyncio.Event = field(default_factory=asyncio.Event)
    provider: str = "fake"

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        if message.id == self.slow_id:
            await self.release.wait()
        return SendOutcome.accepted(None)

    async def close(self) -> None:
        """Nothing to release."""


async def wait_for(predicate_async: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await predicate_async():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_finished_sends_are_recorded_and_acked_while_one_send_still_waits(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, ids = await seed_campaign(database_url, 40)
    sender = OneSlowSender(slow_id=ids[0])
    queue = InMemoryJobQueue()
    deliver = Deliver(pool, queue, FakeRenderer(), sender, RetryPolicy(), WorkerMetrics.register(CollectorRegistry()))
    for i in ids:
        queue.put(encode_job(i))

    batch = asyncio.create_task(deliver(await queue.receive(64, 0)))

    async def the_others_are_sent() -> bool:
        rows = await statuses(pool, ids[1:])
        return {r[0] for r in rows.values()} == {"sent"}

    await wait_for(the_others_are_sent)
    assert len(queue.acked) == 39, "the finished messages are acked before the slow one answers"
    assert (await statuses(pool, ids[:1]))[ids[0]][0] == "sending"
    assert not batch.done()

    sender.release.set()
    await asyncio.wait_for(batch, 5)
    assert len(queue.acked) == 40
    assert (await statuses(pool, ids[:1]))[ids[0]][0] == "sent"


async def test_the_consumer_takes_new_batches_while_a_slow_send_holds_an_earlier_one(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, first = await seed_campaign(database_url, 5)
    _, later = await seed_campaign(database_url, 5)
    sender = OneSlowSender(slow_id=first[0])
    queue = InMemoryJobQueue()
    deliver = Deliver(pool, queue, FakeRenderer(), sender, RetryPolicy(), WorkerMetrics.register(CollectorRegistry()))
    consumer = Consumer(queue, deliver, batch_size=5, concurrency=2)
    for i in first:
        queue.put(encode_job(i))
    running = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.1)  # the first batch is in hand, its first message waiting on the provider
    for i in later:
        queue.put(encode_job(i))

    async def the_later_batch_is_sent() -> bool:
        rows = await statuses(pool, later)
        return {r[0] for r in rows.values()} == {"sent"}

    await wait_for(the_later_batch_is_sent)
    assert (await statuses(pool, first[:1]))[first[0]][0] == "sending"

    sender.release.set()
    consumer.stop.set()
    await queue.stop_intake()
    await asyncio.wait_for(running, 5)
    assert {r[0] for r in (await statuses(pool, first + later)).values()} == {"sent"}

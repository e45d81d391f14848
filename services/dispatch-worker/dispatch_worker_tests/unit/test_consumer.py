"""The consumer loop: platform failures pause consumption without spending retries; SIGTERM finishes the batch."""

from __future__ import annotations

import asyncio

from dispatch.codec import encode_job
from dispatch_worker.amqp.consumer import Consumer, PlatformBackoff
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.usecases.deliver import Deliver
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import seed_campaign, statuses
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue, ScriptedSender


async def test_template_svc_down_pauses_consumption_and_spends_no_retry(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, ids = await seed_campaign(database_url, 5)
    queue, renderer, sender = InMemoryJobQueue(), FakeRenderer(down=True), ScriptedSender()
    deliver = Deliver(pool, queue, renderer, sender, RetryPolicy(), WorkerMetrics.register(CollectorRegistry()))
    consumer = Consumer(queue, deliver, batch_size=10, concurrency=2, backoff=PlatformBackoff(0.05, 0.2))
    for i in ids:
        queue.put(encode_job(i))
    running = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.6)
    # stop while template-svc is still down, so no batch is caught between its claim and its release
    consumer.stop.set()
    await queue.stop_intake()
    await asyncio.wait_for(running, 5)
    calls_while_down = renderer.calls
    assert 2 <= calls_while_down <= 12  # paused with backoff, not spinning
    assert {r[:2] for r in (await statuses(pool, ids)).values()} == {("pending", 0)}
    assert not sender.sent and not queue.acked and not queue.retries
    assert len(queue.ready) == 5, "every job went back to the queue"

    renderer.down, queue.stopped = False, False
    consumer = Consumer(queue, deliver, batch_size=10, concurrency=2, backoff=PlatformBackoff(0.05, 0.2))
    running = asyncio.create_task(consumer.run())
    for _ in range(100):
        if len(queue.acked) == 5:
            break
        await asyncio.sleep(0.02)
    await queue.stop_intake()
    consumer.stop.set()
    await asyncio.wait_for(running, 5)
    assert {r[:2] for r in (await statuses(pool, ids)).values()} == {("sent", 0)}
    assert len(sender.sent) == 5


async def test_stopping_ends_every_loop_even_when_the_queue_answers_empty_at_once(pool: AsyncConnectionPool) -> None:
    queue = InMemoryJobQueue()
    deliver = Deliver(
        pool, queue, FakeRenderer(), ScriptedSender(), RetryPolicy(), WorkerMetrics.register(CollectorRegistry())
    )
    consumer = Consumer(queue, deliver, concurrency=3)
    running = asyncio.create_task(consumer.run())
    await queue.stop_intake()  # the fake now answers [] without waiting, as the RabbitMQ adapter does once stopped
    await asyncio.sleep(0.05)  # the loops must still let the event loop run
    consumer.stop.set()
    await asyncio.wait_for(running, 2)


async def test_one_success_ends_the_pause_of_every_loop() -> None:
    backoff = PlatformBackoff(initial_s=0.5, max_s=10.0)
    loop = asyncio.get_running_loop()
    for _ in range(6):  # loops failing together during one pause count once
        backoff.failed(loop.time())
    assert backoff.current_s == 0.5
    stop = asyncio.Event()
    waiting = [asyncio.create_task(backoff.wait(stop)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in waiting), "the loops pause"
    backoff.succeeded()  # the dependency is back: one batch went through
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=0.2)
    await asyncio.wait_for(backoff.wait(stop), timeout=0.01)  # and nobody pauses after it


async def test_each_failed_pause_doubles_the_next_up_to_the_cap() -> None:
    backoff = PlatformBackoff(initial_s=0.1, max_s=0.3)
    now = 100.0
    pauses = []
    for _ in range(4):
        backoff.failed(now)
        pauses.append(backoff.current_s)
        now = backoff.resume_at  # the next failure comes when the pause has ended
    assert pauses == [0.1, 0.2, 0.3, 0.3]

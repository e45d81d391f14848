"""The same cases on both JobQueue implementations: RabbitJobQueue over a real broker and InMemoryJobQueue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection
from dispatch.codec import encode_job, encode_jobs
from dispatch.publisher import JobPublisher
from dispatch.topology import Topology, delete_topology
from dispatch_worker.amqp.job_queue import RabbitJobQueue
from dispatch_worker.domain import Job
from dispatch_worker.ports import JobQueue

from dispatch_worker_tests.fakes import InMemoryJobQueue

TIERS = (0.2, 0.4, 0.6)


class Harness(Protocol):
    """What the contract cases need besides the port: put jobs in, look at the tiers and the DLQ."""

    @property
    def queue(self) -> JobQueue: ...

    async def put(self, body: bytes) -> None: ...
    async def after_retry_delay(self, tier: int) -> None: ...
    async def dead(self) -> list[tuple[bytes, Mapping[str, str]]]: ...
    def tier_delay_s(self, tier: int) -> float: ...


@dataclass
class MemoryHarness:
    queue: InMemoryJobQueue

    async def put(self, body: bytes) -> None:
        self.queue.put(body)

    async def after_retry_delay(self, tier: int) -> None:
        self.queue.expire_retries()

    def tier_delay_s(self, tier: int) -> float:
        return 0.0  # the fake's clock is the test: expire_retries() is the delay

    async def dead(self) -> list[tuple[bytes, Mapping[str, str]]]:
        return [(j.body, {"x-death-reason": r, "x-last-error": e or ""}) for j, r, e in self.queue.dead]


@dataclass
class RabbitHarness:
    queue: RabbitJobQueue
    connection: AbstractConnection
    publisher: JobPublisher
    topology: Topology

    async def put(self, body: bytes) -> None:
        await self.publisher.exchange.publish(aio_pika.Message(body), "work")

    async def after_retry_delay(self, tier: int) -> None:
        await asyncio.sleep(TIERS[tier - 1] / 2)  # receive() then waits for the broker to move it back

    def tier_delay_s(self, tier: int) -> float:
        return TIERS[tier - 1]

    async def dead(self) -> list[tuple[bytes, Mapping[str, str]]]:
        channel = await self.connection.channel()
        dlq = await channel.declare_queue(self.topology.dead_letter_queue, passive=True)
        found: list[tuple[bytes, Mapping[str, str]]] = []
        while (message := await dlq.get(fail=False)) is not None:
            found.append((message.body, {k: str(v) for k, v in (message.headers or {}).items()}))
            await message.ack()
        return found


@pytest.fixture(params=["memory", "rabbitmq"])
async def harness(request: pytest.FixtureRequest, amqp_url: str, run_id: str) -> AsyncIterator[Harness]:
    """Each contract case runs once per implementation."""
    if request.param == "memory":
        yield MemoryHarness(InMemoryJobQueue())
        return
    topology = Topology(prefix=f"test_contract_{run_id}", retry_delays_s=TIERS)
    connection = await aio_pika.connect(amqp_url)
    publisher = await JobPublisher.open(await connection.channel(), topology)
    queue = RabbitJobQueue(await connection.channel(), publisher, topology)
    await queue.start(prefetch=10)
    try:
        yield RabbitHarness(queue, connection, publisher, topology)
    finally:
        await queue.stop_intake()
        await delete_topology(await connection.channel(), topology)
        await connection.close()


async def receive(queue: JobQueue, count: int, timeout_s: float = 5.0) -> list[Job]:
    """Receive until `count` jobs arrived (or fail after `timeout_s`)."""
    jobs: list[Job] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while len(jobs) < count:
        assert loop.time() < deadline, f"received {len(jobs)} of {count} jobs"
        jobs += await queue.receive(count - len(jobs), 0.05)
    return jobs


async def test_jobs_arrive_in_micro_batches_and_acked_jobs_do_not_return(harness: Harness) -> None:
    for i in range(1, 6):
        await harness.put(encode_job(i))
    first = await receive(harness.queue, 3)
    rest = await receive(harness.queue, 2)
    assert sorted(j.outbound_message_id or 0 for j in first + rest) == [1, 2, 3, 4, 5]
    await harness.queue.ack(first + rest)
    assert await harness.queue.receive(10, 0.3) == []


async def test_a_released_job_comes_back_flagged_redelivered(harness: Harness) -> None:
    await harness.put(encode_job(42))
    (job,) = await receive(harness.queue, 1)
    assert not job.redelivered
    await harness.queue.release([job])
    (again,) = await receive(harness.queue, 1)
    assert again.outbound_message_id == 42 and again.redelivered
    await harness.queue.ack([again])


async def test_a_job_of_several_messages_arrives_as_one_job_per_message(harness: Harness) -> None:
    await harness.put(encode_jobs([11, 12, 13]))
    jobs = await receive(harness.queue, 3)
    assert [j.outbound_message_id for j in jobs] == [11, 12, 13]
    assert [j.body for j in jobs] == [encode_job(11), encode_job(12), encode_job(13)]  # what a retry republishes
    assert len({j.delivery_id for j in jobs}) == 3
    await harness.queue.ack(jobs[:2])
    await harness.queue.ack(jobs[2:])
    assert await harness.queue.receive(10, 0.3) == []


async def test_a_released_message_of_a_packed_job_comes_back_flagged_redelivered(harness: Harness) -> None:
    await harness.put(encode_jobs([21, 22]))
    first, second = await receive(harness.queue, 2)
    await harness.queue.ack([first])
    await harness.queue.release([second])
    # the broker gives the whole delivery back (the claim skips the message already worked); the fake only the one
    again = await receive(harness.queue, 1)
    again += await harness.queue.receive(10, 0.3)
    assert 22 in {j.outbound_message_id for j in again} and all(j.redelivered for j in again)
    await harness.queue.ack(again)
    assert await harness.queue.receive(10, 0.3) == []


async def test_a_job_sent_to_a_retry_tier_returns_to_work_after_its_delay(harness: Harness) -> None:
    await harness.put(encode_job(7))
    (job,) = await receive(harness.queue, 1)
    loop = asyncio.get_running_loop()
    parked_at = loop.time()
    await harness.queue.retry_later([job], 2)
    await harness.queue.ack([job])
    await harness.after_retry_delay(2)
    (back,) = await receive(harness.queue, 1)
    assert back.outbound_message_id == 7
    assert loop.time() - parked_at >= harness.tier_delay_s(2)
    await harness.queue.ack([back])


async def test_dead_lettered_jobs_carry_their_reason_and_poison_keeps_its_body(harness: Harness) -> None:
    await harness.put(b"{not json")
    await harness.put(encode_job(9))
    jobs = await receive(harness.queue, 2)
    poison = next(j for j in jobs if j.outbound_message_id is None)
    good = next(j for j in jobs if j.outbound_message_id == 9)
    assert poison.poison_reason and "JSON" in poison.poison_reason
    await harness.queue.dead_letter([poison], "poison", poison.poison_reason)
    await harness.queue.dead_letter([good], "exhausted", "provider said no")
    await harness.queue.ack(jobs)
    dead = {body: headers for body, headers in await harness.dead()}
    assert dead[b"{not json"]["x-death-reason"] == "poison"
    assert json.loads(encode_job(9)) == json.loads(next(b for b in dead if b != b"{not json"))
    assert dead[encode_job(9)]["x-last-error"] == "provider said no"


async def test_after_stop_intake_nothing_more_is_handed_out(harness: Harness) -> None:
    await harness.queue.stop_intake()
    await harness.put(encode_job(3))
    assert await harness.queue.receive(10, 0.2) == []

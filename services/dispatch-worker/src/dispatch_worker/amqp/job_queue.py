"""JobQueue over RabbitMQ: consume the priority lane and the work queue with a prefetch window each, ack after the
commit, publish retries and dead letters.

A delivery may name several messages (the relay packs them, dispatch.codec): it is handed out as one job per message
and settled once every one of its jobs is, acked when all were acked, requeued whole when any was released (the
claim skips the messages already worked, so only the released ones are sent again).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueueIterator
from dispatch.codec import PoisonJob, decode_jobs, encode_job
from dispatch.publisher import JobPublisher, OutgoingJob
from dispatch.topology import Topology

from dispatch_worker.domain import Job

log = logging.getLogger(__name__)

# how long receive() waits for a first delivery before answering [] (so a stopping loop notices)
FIRST_DELIVERY_WAIT_S = 0.5
# headers that belong to one broker hop and must not ride along into the next publish
_HOP_HEADERS = frozenset({"x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason"})


@dataclass(slots=True)
class _Delivery:
    """A delivery handed out as `pending` jobs not settled yet; requeued whole if any of them was released."""

    message: AbstractIncomingMessage
    pending: int
    released: bool = False


class RabbitJobQueue:
    """Buffers deliveries from the priority lane and the work queue (at most `prefetch` each) and hands them out in
    micro-batches, the priority lane's first: a transactional job never waits behind a promotional backlog."""

    def __init__(
        self,
        consume_channel: AbstractChannel,
        publisher: JobPublisher,
        topology: Topology,
        *,
        priority_only: bool = False,
    ) -> None:
        """Use a channel for consuming (its QoS is set by `start`) and a confirming publisher; `priority_only`
        consumes the priority lane alone (the worker's reserved loop, always free for a transactional job)."""
        self.priority_only = priority_only
        self.channel = consume_channel
        self.publisher = publisher
        self.topology = topology
        self._priority: asyncio.Queue[Job] = asyncio.Queue()
        self._buffer: asyncio.Queue[Job] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._held: dict[int, _Delivery] = {}
        self._ids = itertools.count(1)
        self._iterators: list[AbstractQueueIterator] = []
        self._pumps: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()

    async def start(self, prefetch: int) -> None:
        """Set the prefetch window (per consumer) and consume the priority lane and the work queue."""
        await self.channel.set_qos(prefetch_count=prefetch)
        lanes = [(self.topology.priority_queue, self._priority), (self.topology.work_queue, self._buffer)]
        for name, buffer in lanes[: 1 if self.priority_only else 2]:
            queue = await self.channel.declare_queue(name, passive=True)
            deliveries = queue.iterator()
            await deliveries.consume()
            self._iterators.append(deliveries)
            self._pumps.append(asyncio.create_task(self._pump_deliveries(deliveries, buffer), name=f"pump-{name}"))

    async def _pump_deliveries(self, deliveries: AbstractQueueIterator, buffer: asyncio.Queue[Job]) -> None:
        # the iterator owns consuming and cancelling; the buffer lets receive() gather micro-batches with a deadline
        async for message in deliveries:
            for job in self._to_jobs(message):
                buffer.put_nowait(job)
            self._arrived.set()

    def _take(self, wanted: int) -> list[Job]:
        """Up to `wanted` buffered jobs without waiting, the priority lane's first (used at shutdown)."""
        taken: list[Job] = []
        for buffer in (self._priority, self._buffer):
            while len(taken) < wanted and not buffer.empty():
                taken.append(buffer.get_nowait())
        return taken

    async def _wait_for_more(self, deadline: float) -> bool:
        """Wait until a delivery arrives or `deadline` passes; False when it passed."""
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout=remaining)
        except TimeoutError:
            return False
        return True

    async def _first_lane(self, deadline: float) -> asyncio.Queue[Job] | None:
        """The lane a batch comes from: the priority lane whenever a job waits there; None when nothing came."""
        while True:
            self._arrived.clear()  # before looking: a delivery pumped meanwhile sets it again
            for lane in (self._priority, self._buffer):
                if not lane.empty():
                    return lane
            if not await self._wait_for_more(deadline):
                return None

    async def receive(self, max_jobs: int, max_wait_s: float) -> list[Job]:
        """Wait for one delivery (up to FIRST_DELIVERY_WAIT_S), then gather more for at most `max_wait_s`.

        A batch holds one lane's jobs: priority jobs go in a batch of their own, never held up by rendering and
        recording a full promotional batch beside them, and a promotional batch being gathered is handed over as
        soon as a priority job arrives, so the next receive takes it.
        """
        if self._stopped.is_set():
            await asyncio.sleep(0)
            return []
        loop = asyncio.get_running_loop()
        lane = await self._first_lane(loop.time() + FIRST_DELIVERY_WAIT_S)
        if lane is None:
            return []
        jobs = [lane.get_nowait()]
        deadline = loop.time() + max_wait_s
        while len(jobs) < max_jobs:
            if not lane.empty():
                jobs.append(lane.get_nowait())
                continue
            if lane is self._buffer and not self._priority.empty():
                break
            self._arrived.clear()
            idle = lane.empty() and (lane is self._priority or self._priority.empty())
            if idle and not await self._wait_for_more(deadline):
                break
        return jobs

    def _to_jobs(self, message: AbstractIncomingMessage) -> list[Job]:
        """One job per message the delivery names (its own single-message body); one poison job if unreadable."""
        headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (message.headers or {}).items()}
        redelivered = bool(message.redelivered)
        try:
            ids = decode_jobs(message.body)
        except PoisonJob as exc:
            delivery_id = next(self._ids)
            self._held[delivery_id] = _Delivery(message, 1)
            return [Job(delivery_id, None, message.body, headers, redelivered, poison_reason=str(exc))]
        delivery = _Delivery(message, len(ids))
        jobs = []
        for message_id in ids:
            delivery_id = next(self._ids)
            self._held[delivery_id] = delivery
            body = message.body if len(ids) == 1 else encode_job(message_id)
            jobs.append(Job(delivery_id, message_id, body, headers, redelivered))
        return jobs

    async def ack(self, jobs: Sequence[Job]) -> None:
        """Ack each job; a delivery is acked once all its jobs are (requeued if one of them was released)."""
        await self._settle(jobs, released=False)

    async def release(self, jobs: Sequence[Job]) -> None:
        """Give each job back; its delivery is requeued (the broker marks it redelivered) once all its jobs are
        settled."""
        await self._settle(jobs, released=True)

    async def _settle(self, jobs: Sequence[Job], *, released: bool) -> None:
        for job in jobs:
            delivery = self._held.pop(job.delivery_id, None)
            if delivery is None:  # settled before: acking or releasing twice is a no-op, as with the broker
                continue
            delivery.released |= released
            delivery.pending -= 1
            if delivery.pending == 0:
                if delivery.released:
                    await delivery.message.nack(requeue=True)
                else:
                    await delivery.message.ack()

    async def retry_later(self, jobs: Sequence[Job], tier: int) -> None:
        """Publish to retry tier `tier` and await the confirms."""
        await self.publisher.publish_retry([self._outgoing(j, {}) for j in jobs], tier)

    async def dead_letter(self, jobs: Sequence[Job], reason: str, last_error: str | None) -> None:
        """Publish to the DLQ with x-death-reason and x-last-error headers, confirmed."""
        extra = {"x-death-reason": reason, "x-last-error": (last_error or "")[:500]}
        parsed = [j for j in jobs if j.outbound_message_id is not None]
        await self.publisher.publish_dead([self._outgoing(j, extra) for j in parsed])
        for job in jobs:
            if job.outbound_message_id is None:
                await self.publisher.publish_raw_dead(job.body, {**_carried(job.headers), **extra})

    @staticmethod
    def _outgoing(job: Job, extra: Mapping[str, str]) -> OutgoingJob:
        assert job.outbound_message_id is not None
        return OutgoingJob(job.outbound_message_id, {**_carried(job.headers), **extra})

    async def stop_intake(self) -> None:
        """Cancel the consumers and requeue buffered deliveries no batch took yet; batches in hand still finish."""
        self._stopped.set()
        # the pumps stop first: a pump left running would ask its closed iterator to consume again, and that
        # request, cancelled with the pump, would close the channel the batches in hand still ack on
        for pump in self._pumps:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        for deliveries in self._iterators:
            # cancels the consumer and requeues what the iterator held but had not handed over
            await deliveries.close()
        # a delivery whose other jobs are in hand goes back once those are settled
        await self._settle(self._take(self._priority.qsize() + self._buffer.qsize()), released=True)


def _carried(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in _HOP_HEADERS and not k.startswith("x-delivery")}

"""The transactional outbox relay: unpublished outbound_messages rows become confirmed RabbitMQ jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aio_pika
import psycopg
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from prometheus_client import CollectorRegistry, Counter, Gauge
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from service_kit import metric_catalogue
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from dispatch import outbound_messages
from dispatch.lifecycle import UnpublishedMessage
from dispatch.publisher import JobPublisher, OutgoingJob
from dispatch.topology import Topology

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """How the relay batches, wakes and backs off."""

    batch_size: int = 500
    sweep_interval_s: float = 1.0  # a timer sweep catches rows whose NOTIFY was missed
    completion_sweep_interval_s: float = 5.0
    # short: the relay is back within about a second of the broker's or the database's return
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 1.0
    connect_timeout_s: float = 5.0
    reconnect_interval_s: float = 0.5
    # backpressure: the relay publishes only while the work queue holds fewer ready jobs than this (None: never
    # waits), so a million-message send waits in PostgreSQL, not in the broker's memory; retry tiers and the
    # worker's own publishes are not gated by it
    high_water: int | None = 20_000
    high_water_poll_s: float = 0.2
    # messages packed into one job (of one lane and one trace): the broker's cost per message falls by this factor;
    # the high-water mark still counts messages (ready jobs times this)
    job_size: int = 16


@dataclass(frozen=True, slots=True)
class RelayMetrics:
    """Messages published (after the broker's confirm) and rows still waiting."""

    published: Counter
    backlog: Gauge
    # backpressure: the work queue's ready jobs as the relay last saw them, and how often it held back
    work_queue_ready: Gauge
    held_back: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> RelayMetrics:
        """Create the metrics in `registry` (tests pass a private one)."""
        return cls(
            published=metric_catalogue.MESSAGES_PUBLISHED.counter(registry),
            backlog=metric_catalogue.OUTBOX_BACKLOG.gauge(registry),
            work_queue_ready=metric_catalogue.RELAY_WORK_QUEUE_READY.gauge(registry),
            held_back=metric_catalogue.RELAY_HELD_BACK.counter(registry),
        )


class _Stopped(Exception):
    """Raised into a backoff wait when the relay is asked to stop."""


class OutboxRelay:
    """Moves the transactional outbox to RabbitMQ, at least once; safe with several replicas (SKIP LOCKED).

    A crash after the broker's confirm but before the commit leaves the rows unpublished, so they are published
    again: the worker's claim (only 'pending' rows are sent) turns that duplicate job into an ack without a send.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        amqp_url: str,
        topology: Topology,
        metrics: RelayMetrics,
        settings: RelaySettings | None = None,
    ) -> None:
        """Relay from `pool`'s database to the broker at `amqp_url`; LISTEN on a dedicated connection."""
        self.pool = pool
        self.amqp_url = amqp_url
        self.topology = topology
        self.metrics = metrics
        self.settings = settings or RelaySettings()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._finished.set()  # nothing runs until run() is called
        self._connection: AbstractRobustConnection | None = None
        self._publisher: JobPublisher | None = None
        self._channel: AbstractChannel | None = None
        self._asked = self.settings.batch_size

    def _retrying(self, what: str) -> AsyncRetrying:
        """Retry anything while the relay runs: a broker or database away, or a lost connection."""

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(f"{what} failed; retrying", extra={"error": f"{type(error).__name__}: {error}"[:300]})

        async def sleep_unless_stopping(seconds: float) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
            if self._stopping.is_set():
                raise _Stopped

        return AsyncRetrying(
            wait=wait_exponential_jitter(
                multiplier=self.settings.backoff_initial_s,
                jitter=self.settings.backoff_initial_s,
                max=self.settings.backoff_max_s,
            ),
            # never CancelledError (a BaseException): cancelling the task must end it
            retry=retry_if_exception_type(Exception) & retry_if_not_exception_type(_Stopped),
            sleep=sleep_unless_stopping,
            before_sleep=log_retry,
            reraise=True,
        )

    async def run(self) -> None:
        """Relay until stop() is called; broker or database failures are retried with backoff, never fatal."""
        self._stopping.clear()
        self._finished.clear()
        background = [asyncio.create_task(self._listen()), asyncio.create_task(self._housekeeping())]
        try:
            while not self._stopping.is_set():
                published = await self._relay_batch_retrying()
                # fewer than asked: the outbox is drained for now (a batch cut short by the high-water mark is not)
                if 0 <= published < self._asked:
                    await self._sleep_until_woken(self.settings.sweep_interval_s)
        except _Stopped:
            pass
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, _Stopped):
                    await task
            connection, self._connection, self._publisher, self._channel = self._connection, None, None, None
            if connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), timeout=2.0)
            self._finished.set()

    async def stop(self) -> None:
        """Stop after the batch in hand is published and committed; return once run() has returned."""
        self._stopping.set()
        self._wake.set()
        await self._finished.wait()

    async def _relay_batch_retrying(self) -> int:
        async for attempt in self._retrying("outbox relay"):
            with attempt:
                return await self.relay_batch()
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def room(self) -> int:
        """How many jobs the work queue takes before its ready backlog reaches the high-water mark."""
        high_water = self.settings.high_water
        if high_water is None:
            return self.settings.batch_size
        await self._ensure_publisher()
        assert self._channel is not None  # opened with the publisher
        # a passive declare on the underlying channel: the robust channel's declare_queue would answer from its
        # cache of declared queues, with the count of the first declare
        underlay = await self._channel.get_underlay_channel()
        declared = await underlay.queue_declare(self.topology.work_queue, passive=True)
        # a job holds up to job_size messages: counted full, so the mark holds in messages too
        ready = (declared.message_count or 0) * self.settings.job_size
        self.metrics.work_queue_ready.set(ready)
        return max(0, min(self.settings.batch_size, high_water - ready))

    async def relay_batch(self) -> int:
        """Publish one batch of unpublished rows (no more than the work queue has room for) and mark them
        published; return how many. With no room it waits a moment and returns 0."""
        publisher = await self._ensure_publisher()
        room = await self.room()
        if room == 0:
            self.metrics.held_back.inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.high_water_poll_s)
            return -1
        self._asked = room
        async with self.pool.connection() as conn, conn.transaction():
            rows = await outbound_messages.lock_unpublished(conn, room)
            if not rows:
                return 0
            priority, work = pack_jobs(rows, self.settings.job_size)
            await publisher.publish_priority(priority)
            await publisher.publish_work(work)
            await outbound_messages.mark_published(conn, [r.id for r in rows])
        self.metrics.published.inc(len(rows))
        return len(rows)

    async def _ensure_publisher(self) -> JobPublisher:
        # one robust connection for the relay's life: aio-pika reconnects it and restores its channel by itself
        if self._publisher is None:
            connection = self._connection
            if connection is None:
                connection = await aio_pika.connect_robust(
                    self.amqp_url,
                    timeout=self.settings.connect_timeout_s,
                    reconnect_interval=self.settings.reconnect_interval_s,
                )
                self._connection = connection
            channel = await connection.channel(publisher_confirms=True)
            self._publisher = await JobPublisher.open(channel, self.topology)
            self._channel = channel
        return self._publisher

    async def _sleep_until_woken(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _listen(self) -> None:
        """Wake the loop on every NOTIFY outbox (sent by the send transaction at commit)."""
        conninfo = self.pool.conninfo if isinstance(self.pool.conninfo, str) else ""
        async for attempt in self._retrying("outbox LISTEN"):
            with attempt:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    channel = sql.Identifier(outbound_messages.OUTBOX_CHANNEL)
                    await conn.execute(sql.SQL("LISTEN {}").format(channel))
                    self._wake.set()  # rows committed while nobody listened
                    async for _ in conn.notifies():
                        self._wake.set()

    async def _housekeeping(self) -> None:
        """Keep the backlog gauge current and complete campaigns a worker left finished but open."""
        loop = asyncio.get_running_loop()
        next_completion = loop.time()
        while True:
            try:
                async with self.pool.connection() as conn:
                    self.metrics.backlog.set(await outbound_messages.count_backlog(conn))
                    if loop.time() >= next_completion:
                        next_completion = loop.time() + self.settings.completion_sweep_interval_s
                        await outbound_messages.complete_campaigns(conn, None)
            except psycopg.Error as exc:
                log.warning("outbox housekeeping failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(self.settings.sweep_interval_s)


def pack_jobs(rows: Sequence[UnpublishedMessage], job_size: int) -> tuple[list[OutgoingJob], list[OutgoingJob]]:
    """The priority lane's jobs and the work queue's: rows of one lane and one traceparent, `job_size` to a job.

    Each job carries its rows' traceparent, so the trace of POST /send continues in the worker; the rows of one
    send share it, so a campaign's messages pack fully.
    """
    groups: dict[tuple[bool, str | None], list[int]] = {}
    for row in rows:
        groups.setdefault((row.transactional, row.traceparent), []).append(row.id)
    lanes: tuple[list[OutgoingJob], list[OutgoingJob]] = ([], [])
    for (transactional, traceparent), ids in groups.items():
        headers = {"traceparent": traceparent} if traceparent else {}
        lane = lanes[0] if transactional else lanes[1]
        for start in range(0, len(ids), job_size):
            first, *more = ids[start : start + job_size]
            lane.append(OutgoingJob(first, headers, tuple(more)))
    return lanes


@contextlib.asynccontextmanager
async def relay_running(
    pool: AsyncConnectionPool,
    amqp_url: str,
    registry: CollectorRegistry,
    topology: Topology,
    settings: RelaySettings | None = None,
) -> AsyncIterator[OutboxRelay]:
    """Run an OutboxRelay in the background for the block; on exit it finishes its batch in hand and stops."""
    relay = OutboxRelay(pool, amqp_url, topology, RelayMetrics.register(registry), settings)
    task = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        yield relay
    finally:
        await relay.stop()
        await task

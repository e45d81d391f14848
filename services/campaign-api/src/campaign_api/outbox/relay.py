"""The outbox relay: publish unpublished rows with confirms, then mark them published, in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass

import aio_pika
import psycopg
from aio_pika.abc import AbstractConnection
from dispatch_queue import JobPublisher, OutgoingJob, Topology
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from campaign_api.outbox import repository
from campaign_api.outbox.metrics import RelayMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """How the relay batches, wakes and backs off."""

    batch_size: int = 500
    sweep_interval_s: float = 1.0  # a timer sweep catches rows whose NOTIFY was missed
    completion_sweep_interval_s: float = 5.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 10.0
    connect_timeout_s: float = 5.0
    listen_channel: str = "outbox"


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
        self._connection: AbstractConnection | None = None
        self._publisher: JobPublisher | None = None

    async def run(self) -> None:
        """Relay until stop() is called; broker or database failures are retried with backoff, never fatal."""
        self._finished.clear()
        self._stopping.clear()
        background = [asyncio.create_task(self._listen()), asyncio.create_task(self._housekeeping())]
        backoff = self.settings.backoff_initial_s
        try:
            while not self._stopping.is_set():
                try:
                    published = await self.relay_batch()
                except Exception as exc:  # broker or database away: rows stay unpublished, try again later
                    log.warning("outbox relay failed; retrying", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
                    await self._close_publisher()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.settings.backoff_max_s)
                    continue
                backoff = self.settings.backoff_initial_s
                if published < self.settings.batch_size:
                    await self._sleep(self.settings.sweep_interval_s, wake_on_notify=True)
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._close_publisher()
            self._finished.set()

    async def stop(self) -> None:
        """Stop after the batch in hand is published and committed; return once run() has returned."""
        self._stopping.set()
        self._wake.set()
        await self._finished.wait()

    async def relay_batch(self) -> int:
        """Publish one batch of unpublished rows and mark them published; return how many."""
        publisher = await self._ensure_publisher()
        async with self.pool.connection() as conn, conn.transaction():
            rows = await repository.lock_unpublished(conn, self.settings.batch_size)
            if not rows:
                return 0
            # each job carries its row's traceparent, so the trace of POST /send continues in the worker
            await publisher.publish_work(
                [OutgoingJob(r.id, {"traceparent": r.traceparent} if r.traceparent else {}) for r in rows]
            )
            await repository.mark_published(conn, [r.id for r in rows])
        for channel, count in Counter(r.channel for r in rows).items():
            self.metrics.published.labels(channel).inc(count)
        return len(rows)

    async def _ensure_publisher(self) -> JobPublisher:
        if self._publisher is None or self._connection is None or self._connection.is_closed:
            await self._close_publisher()
            self._connection = await aio_pika.connect(self.amqp_url, timeout=self.settings.connect_timeout_s)
            channel = await self._connection.channel(publisher_confirms=True)
            self._publisher = await JobPublisher.open(channel, self.topology)
        return self._publisher

    async def _close_publisher(self) -> None:
        connection, self._connection, self._publisher = self._connection, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2.0)

    async def _sleep(self, seconds: float, *, wake_on_notify: bool = False) -> None:
        waiter = self._wake if wake_on_notify else self._stopping
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout=seconds)
        if wake_on_notify:
            self._wake.clear()

    async def _listen(self) -> None:
        """Wake the loop on every NOTIFY outbox (sent by the send transaction at commit)."""
        backoff = self.settings.backoff_initial_s
        while True:
            try:
                conninfo = self.pool.conninfo if isinstance(self.pool.conninfo, str) else ""
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.settings.listen_channel)))
                    backoff = self.settings.backoff_initial_s
                    self._wake.set()  # rows committed while nobody listened
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.Error:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.backoff_max_s)

    async def _housekeeping(self) -> None:
        """Keep the backlog gauge current and complete campaigns a worker left finished but open."""
        loop = asyncio.get_running_loop()
        next_completion = loop.time()
        while True:
            try:
                async with self.pool.connection() as conn:
                    self.metrics.backlog.set(await repository.count_backlog(conn))
                    if loop.time() >= next_completion:
                        next_completion = loop.time() + self.settings.completion_sweep_interval_s
                        await repository.complete_finished_campaigns(conn)
            except psycopg.Error as exc:
                log.warning("outbox housekeeping failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(self.settings.sweep_interval_s)

"""Composition root: settings, telemetry, pool, broker, template-svc client, sender; consume until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import signal
from pathlib import Path

import aio_pika
import uvloop
from aio_pika.abc import AbstractRobustConnection
from dispatch.pool_check import check_pooled_connection
from dispatch.publisher import JobPublisher
from dispatch.topology import Topology
from grpc import aio
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool
from service_kit.json_logs import configure_logging
from service_kit.probe_server import serve_probes
from service_kit.readiness import Check
from service_kit.telemetry import configure_tracing

from dispatch_worker.amqp.consumer import Consumer, PlatformBackoff
from dispatch_worker.amqp.job_queue import RabbitJobQueue
from dispatch_worker.amqp.queue_depth import watch_queue_depth
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.grpc.template_client import GrpcTemplateRenderer
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.ports import Sender
from dispatch_worker.senders.kannel import KannelConfig, KannelSender
from dispatch_worker.senders.mock import Latency, LatencyKind, MockSender
from dispatch_worker.senders.registry import AdapterRegistry
from dispatch_worker.settings import Settings
from dispatch_worker.usecases.deliver import Deliver
from dispatch_worker.usecases.sender_choice import SenderChoice

log = logging.getLogger("dispatch_worker")


def instrument() -> None:
    """Trace the broker, the database and the gRPC client calls."""
    AioPikaInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def readiness_checks(
    pool: AsyncConnectionPool, connection: AbstractRobustConnection, grpc_channel: aio.Channel
) -> dict[str, Check]:
    """/ready answers 200 only when PostgreSQL, RabbitMQ and template-svc all answer."""

    async def database() -> None:
        async with pool.connection(timeout=1.5) as conn:
            await conn.execute("SELECT 1")

    async def broker() -> None:
        if connection.is_closed:
            raise RuntimeError("AMQP connection is closed (reconnecting)")

    async def template_svc() -> None:
        await asyncio.wait_for(grpc_channel.channel_ready(), timeout=1.5)

    return {"database": database, "broker": broker, "template-svc": template_svc}


def build_mock(settings: Settings) -> MockSender:
    """The mock provider as the MOCK_* settings describe it."""
    return MockSender(
        rng=random.Random(settings.mock_seed),
        success_probability=settings.mock_success_probability,
        latency=Latency(LatencyKind(settings.mock_latency), settings.mock_latency_mean_ms),
        log_path=Path(settings.mock_send_log) if settings.mock_send_log else None,
    )


def build_sender(settings: Settings) -> Sender:
    """The sender SENDER names: Kannel's smsbox, or the mock (the default)."""
    if settings.sender == "kannel":
        return KannelSender(
            KannelConfig(
                url=str(settings.kannel_url),
                username=settings.kannel_username,
                password=settings.kannel_password.get_secret_value(),
                sender_id=settings.kannel_from,
                smsc=settings.kannel_smsc,
                dlr_mask=settings.kannel_dlr_mask,
                dlr_url=settings.kannel_dlr_url,
                connect_timeout_s=settings.kannel_connect_timeout_s,
                timeout_s=settings.kannel_timeout_s,
                max_connections=settings.kannel_max_connections,
            )
        )
    return build_mock(settings)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Consume until `stop` is set (SIGTERM or SIGINT when not given), then finish the batches in hand and exit."""
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings)  # records nothing without an exporter; trace context still travels
    if settings.otel_exporter_otlp_endpoint:
        # the library wrappers cost about a tenth of the worker's throughput even when nothing is recorded
        instrument()
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    topology = Topology(prefix=settings.queue_prefix, retry_delays_s=settings.retry_delays_s)
    metrics = WorkerMetrics.register(REGISTRY)
    sender = build_sender(settings)
    # senders as data: one adapter per senders row; rows of the mock provider share one mock with the platform's
    mock = sender if isinstance(sender, MockSender) else build_mock(settings)
    registry = AdapterRegistry(settings, mock)
    pool = AsyncConnectionPool(
        str(settings.database_url),
        min_size=2,
        max_size=settings.db_pool_size,
        # after an outage: a batch waits a bounded time for a connection (then the worker pauses, retries unspent),
        # a connection attempt cannot hang, and a connection broken meanwhile is replaced before a batch gets it
        timeout=settings.db_pool_timeout_s,
        kwargs={"connect_timeout": settings.db_connect_timeout_s},
        check=check_pooled_connection,  # a query only when the socket says something happened
        # end the pool's own reconnect backoff (1 s doubling) quickly, so the batch after the database's return
        # connects at once instead of waiting for a late retry
        reconnect_timeout=settings.db_reconnect_timeout_s,
        open=False,
    )
    await pool.open(wait=False)
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    grpc_channel = aio.insecure_channel(
        settings.template_svc_addr,
        options=[
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", settings.template_svc_reconnect_max_ms),
        ],
    )
    try:
        publisher = await JobPublisher.open(await connection.channel(publisher_confirms=True), topology)
        queue = RabbitJobQueue(await connection.channel(), publisher, topology)
        deliver = Deliver(
            pool=pool,
            queue=queue,
            renderer=GrpcTemplateRenderer(grpc_channel, settings.render_deadline_s),
            sender=sender,
            policy=RetryPolicy(settings.retry_delays_s),
            metrics=metrics,
            claim_lease_s=settings.claim_lease_s,
            choice=SenderChoice(pool, registry, sender, settings.throttle_slowdown_s, settings.max_pacing_wait_s),
            trace_sends=bool(settings.otel_exporter_otlp_endpoint),
        )
        consumer = Consumer(
            queue=queue,
            deliver=deliver,
            batch_size=settings.batch_size,
            batch_wait_s=settings.batch_wait_ms / 1000,
            concurrency=settings.concurrency,
            backoff=PlatformBackoff(max_s=settings.platform_backoff_max_s),
        )
        # one loop of its own for the priority lane: a transactional job never waits for a promotional batch to end
        priority_intake = RabbitJobQueue(await connection.channel(), publisher, topology, priority_only=True)
        priority_consumer = Consumer(
            queue=priority_intake,
            deliver=dataclasses.replace(deliver, queue=priority_intake),
            batch_size=settings.batch_size,
            batch_wait_s=0,
            concurrency=1,
            backoff=consumer.backoff,
        )
        depth_task = asyncio.create_task(
            watch_queue_depth(
                await connection.channel(), topology, metrics.queue_depth, settings.queue_depth_interval_s
            )
        )
        async with serve_probes(
            settings.probe_host, settings.probe_port, readiness_checks(pool, connection, grpc_channel)
        ) as probe_port:
            await queue.start(settings.prefetch)
            await priority_intake.start(settings.prefetch)
            consuming = asyncio.gather(consumer.run(), priority_consumer.run())
            log.info(
                "dispatch-worker consuming",
                extra={"queue": topology.work_queue, "probe_port": probe_port, "sender": sender.provider},
            )
            await stop.wait()
            log.info("dispatch-worker stopping: no new jobs, finishing the batches in hand")
            # loops first learn they are stopping, so an empty receive ends them instead of asking again
            consumer.stop.set()
            priority_consumer.stop.set()
            await queue.stop_intake()
            await priority_intake.stop_intake()
            try:
                await asyncio.wait_for(consuming, timeout=settings.shutdown_grace_s)
            except TimeoutError:
                log.warning("batches still running after the grace period; their jobs return to the queue")
            depth_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await depth_task
    finally:
        await connection.close()
        await grpc_channel.close()
        await pool.close(timeout=settings.db_pool_close_timeout_s)
        await registry.close()
        await sender.close()
        if mock is not sender:
            await mock.close()
    log.info("dispatch-worker stopped")


def cli() -> None:
    """Entry point of the `dispatch-worker` console script."""
    # uvloop: the event loop's own overhead (task steps, socket writes per AMQP frame) is a large share of the
    # worker's CPU per message; campaign-api's relay runs on it already (uvicorn picks it)
    uvloop.run(run(Settings()))

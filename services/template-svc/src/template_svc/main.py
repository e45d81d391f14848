"""Composition root: build settings, telemetry, the use cases and the servers; run until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from grpc import aio
from grpc_health.v1 import health_pb2
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer
from opentelemetry.instrumentation.grpc.filters import health_check, negate
from prometheus_client import REGISTRY
from service_kit.json_logs import configure_logging
from service_kit.probe_server import serve_probes
from service_kit.readiness import Check
from service_kit.telemetry import configure_tracing

from template_svc.grpc_api.server import start_server
from template_svc.metrics import TemplateMetrics
from template_svc.personalizers.registry import PersonalizerRegistry
from template_svc.settings import Settings
from template_svc.usecases.render_messages import RenderMessages

log = logging.getLogger("template_svc")


def build_render() -> RenderMessages:
    """The render use case with every registered personalisation strategy (today: the template strategy)."""
    # an AI strategy is registered here, wrapped in FallbackPersonalizer(primary=..., fallback=TemplatePersonalizer())
    return RenderMessages(PersonalizerRegistry())


def grpc_health_check(channel: aio.Channel) -> Check:
    """Readiness: the gRPC port answers its own health service with SERVING."""
    # a plain method call: the health stub's type information lists no methods
    call = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )

    async def check() -> None:
        reply = await call(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"gRPC health is {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")

    return check


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve gRPC and the probe port until `stop` is set (by SIGTERM or SIGINT when not given)."""
    configure_logging(settings.service_name, settings.log_level)
    provider = configure_tracing(settings)
    # health probes every few seconds would drown the real traces
    instrumentor = GrpcAioInstrumentorServer(filter_=negate(health_check()))  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    metrics = TemplateMetrics.register(REGISTRY)
    running = await start_server(
        build_render(),
        metrics,
        host=settings.grpc_host,
        port=settings.grpc_port,
        max_batch_size=settings.max_batch_size,
    )
    try:
        async with (
            aio.insecure_channel(f"localhost:{running.port}") as self_channel,
            serve_probes(
                settings.probe_host, settings.probe_port, {"grpc": grpc_health_check(self_channel)}
            ) as probe_port,
        ):
            log.info("template-svc serving", extra={"grpc_port": running.port, "probe_port": probe_port})
            await stop.wait()
            log.info("template-svc stopping", extra={"grace_s": settings.shutdown_grace_s})
            await running.stop(settings.shutdown_grace_s)
    finally:
        await running.server.stop(None)
        instrumentor.uninstrument()
        provider.shutdown()
    log.info("template-svc stopped")


def cli() -> None:
    """Console entry point `template-svc`."""
    asyncio.run(serve(Settings()))

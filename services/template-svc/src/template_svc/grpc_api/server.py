"""The grpc.aio server: TemplateService, grpc.health.v1 and server reflection on one port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from template.v1 import template_pb2

from template_svc.grpc_api.metrics_interceptor import MetricsInterceptor
from template_svc.grpc_api.servicer import TemplateServicer, add_to_server
from template_svc.metrics import TemplateMetrics
from template_svc.usecases.render_messages import RenderMessages

TEMPLATE_SERVICE: Final = template_pb2.DESCRIPTOR.services_by_name["TemplateService"].full_name
OVERALL: Final = ""  # the health service's name for the server as a whole


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A started server, the port it listens on, and its health servicer (set NOT_SERVING before stopping)."""

    server: aio.Server
    port: int
    health: health_aio.HealthServicer

    async def stop(self, grace_s: float) -> None:
        """Report NOT_SERVING, refuse new calls, give in-flight calls `grace_s` seconds, then close."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)


async def start_server(
    render: RenderMessages,
    metrics: TemplateMetrics,
    *,
    host: str,
    port: int,
    max_batch_size: int = 10_000,
    interceptors: Sequence[aio.ServerInterceptor] = (),
) -> RunningServer:
    """Build the server with every service registered, bind host:port (0 = a free port) and start it."""
    # grpc.aio.server is looked up at call time so tracing instrumentation installed by main.py applies
    server = grpc.aio.server(interceptors=[MetricsInterceptor(metrics), *interceptors])
    add_to_server(TemplateServicer(render, metrics, max_batch_size), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (TEMPLATE_SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"gRPC server could not bind {host}:{port}")
    await server.start()
    for service in (OVERALL, TEMPLATE_SERVICE):
        await health.set(service, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, bound, health)

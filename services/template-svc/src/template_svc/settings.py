"""Settings of the template service, read from the environment once by main.py."""

from __future__ import annotations

from pydantic import Field
from service_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Ports and limits of the gRPC server; the probe server comes from ServiceSettings."""

    service_name: str = "template-svc"
    grpc_host: str = "0.0.0.0"  # noqa: S104 - env GRPC_HOST; callers reach the pod address
    grpc_port: int = Field(default=50051, ge=0, le=65535)  # env GRPC_PORT; 0 picks a free port
    probe_port: int = Field(default=8081, ge=0, le=65535)  # env PROBE_PORT
    shutdown_grace_s: float = Field(default=5.0, ge=0)  # env SHUTDOWN_GRACE_S: time in-flight calls get on SIGTERM
    max_batch_size: int = Field(default=10_000, ge=1)  # env MAX_BATCH_SIZE: customers per RenderBatch call

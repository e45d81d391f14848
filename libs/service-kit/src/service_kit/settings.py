"""The settings base every service's Settings class extends."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Environment-driven settings shared by every service; built once in the service's main.py."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    service_name: str = "campaign-dispatch"  # each service overrides the default
    service_version: str = "0.1.0"  # env SERVICE_VERSION
    deployment_environment: str = "local"  # env DEPLOYMENT_ENVIRONMENT
    log_level: str = "INFO"  # env LOG_LEVEL
    probe_host: str = "0.0.0.0"  # noqa: S104 - probes must answer the kubelet on the pod address
    probe_port: int = Field(default=8081, ge=0, le=65535)  # env PROBE_PORT; 0 picks a free port
    otel_exporter_otlp_endpoint: str | None = None  # env OTEL_EXPORTER_OTLP_ENDPOINT; unset = no export

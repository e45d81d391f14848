"""The settings base every service's Settings class extends, and the typed connection strings they share."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AmqpDsn, Field, PostgresDsn, UrlConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# the environments where the defaults and demo credentials are acceptable
DEV_ENVIRONMENTS: Final = frozenset({"local", "dev", "development", "test", "ci", "e2e", "compose", "bench"})
# passwords that mean "nobody set one": refused anywhere else
PLACEHOLDER_SECRETS: Final = frozenset({"guest", "changeme", "change-me", "password", "secret", "postgres", "admin"})

# libpq (psycopg) understands these two schemes only
DatabaseUrl = Annotated[PostgresDsn, UrlConstraints(allowed_schemes=["postgresql", "postgres"])]
BrokerUrl = AmqpDsn
# where `make up` and the tests find the servers on a developer's machine
DEFAULT_DATABASE_URL: Final = PostgresDsn("postgresql://postgres@localhost:5432/campaign_dispatch")
DEFAULT_AMQP_URL: Final = AmqpDsn("amqp://guest:guest@localhost:5672/")


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

    @property
    def is_dev(self) -> bool:
        """Running on a developer's machine or in CI, where demo credentials are fine."""
        return self.deployment_environment.lower() in DEV_ENVIRONMENTS

    @model_validator(mode="after")
    def refuse_placeholder_secrets(self) -> ServiceSettings:
        """Outside a dev environment, a connection string with a placeholder password is a deployment mistake."""
        if self.is_dev:
            return self
        for name, value in self:
            if isinstance(value, PostgresDsn):
                passwords = [host.get("password") for host in value.hosts()]
            elif isinstance(value, AmqpDsn):
                passwords = [value.password]
            else:
                continue
            if any(p is not None and p.lower() in PLACEHOLDER_SECRETS for p in passwords):
                raise ValueError(
                    f"{name}: a placeholder password is refused in environment {self.deployment_environment!r};"
                    " set a real secret (or DEPLOYMENT_ENVIRONMENT=local for development)"
                )
        return self

"""campaign-api settings, read from the environment once by main.py."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from service_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything campaign-api reads from its environment."""

    service_name: str = "campaign-api"
    database_url: str = "postgresql://postgres@localhost:5432/campaign_dispatch"  # env DATABASE_URL
    amqp_url: str = "amqp://guest:guest@localhost:5672/"  # env AMQP_URL (the outbox relay publishes there)
    # the queue topology the relay publishes into: must match the dispatch-worker's (same env vars)
    queue_prefix: str = "campaign_sends"  # env QUEUE_PREFIX
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)  # env RETRY_DELAYS_S='[5,30,120]'
    relay_enabled: bool = True  # env RELAY_ENABLED; every replica may relay (SKIP LOCKED keeps them apart)
    relay_batch_size: int = Field(default=500, ge=1)  # env RELAY_BATCH_SIZE
    template_svc_addr: str = "localhost:50051"  # env TEMPLATE_SVC_ADDR
    http_host: str = "0.0.0.0"  # noqa: S104 - the API must answer on the pod address
    http_port: int = Field(default=8080, ge=0, le=65535)  # env HTTP_PORT
    migrations_dir: Path = Path("migrations")  # env MIGRATIONS_DIR, relative to the working directory
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    # how long a request waits for a pooled connection: short, so a dead database answers 503 quickly
    db_pool_timeout_s: float = Field(default=3.0, gt=0)
    db_connect_timeout_s: int = Field(default=2, ge=1)
    template_svc_deadline_s: float = Field(default=2.0, gt=0)  # every gRPC call to template-svc
    # 100,000 customer ids of 7 digits take about 0.8 MB of JSON; 2 MiB leaves room and still refuses abuse
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    web_dist_dir: Path | None = Path("web/dist")  # env WEB_DIST_DIR: the built dashboard, served under /app/ if present

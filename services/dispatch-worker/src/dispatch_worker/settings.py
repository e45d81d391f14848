"""Settings of the dispatch worker, read from the environment once in main.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from service_kit.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL, BrokerUrl, DatabaseUrl, ServiceSettings


class Settings(ServiceSettings):
    """Everything the worker can be told through environment variables."""

    service_name: str = "dispatch-worker"
    probe_port: int = Field(default=8082, ge=0, le=65535)  # env PROBE_PORT
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL  # env DATABASE_URL
    amqp_url: BrokerUrl = DEFAULT_AMQP_URL  # env AMQP_URL
    template_svc_addr: str = "localhost:50051"  # env TEMPLATE_SVC_ADDR
    queue_prefix: str = "campaign_sends"  # env QUEUE_PREFIX
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)  # env RETRY_DELAYS_S='[5,30,120]'; one tier each
    prefetch: int = Field(default=512, ge=1)  # unacked jobs the broker hands this worker
    concurrency: int = Field(default=4, ge=1)  # micro-batches worked at once
    batch_size: int = Field(default=128, ge=1)  # jobs per micro-batch (128 measured best on 2 cores)
    batch_wait_ms: float = Field(default=5.0, ge=0)  # how long a batch waits to fill
    render_deadline_s: float = Field(default=2.0, gt=0)
    # gRPC's own reconnect backoff grows to two minutes; capped, the channel is back within a second of template-svc
    template_svc_reconnect_max_ms: int = Field(default=1000, ge=100)  # env TEMPLATE_SVC_RECONNECT_MAX_MS
    claim_lease_s: float = Field(default=60.0, gt=0)  # a 'sending' claim older than this is taken over
    # short, so the worker is back at full speed within about a second of template-svc or PostgreSQL returning
    platform_backoff_max_s: float = Field(default=1.0, gt=0)
    queue_depth_interval_s: float = Field(default=5.0, gt=0)
    db_pool_size: int = Field(default=8, ge=1)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)  # how long a batch waits for a pooled connection
    db_connect_timeout_s: int = Field(default=2, ge=1)
    db_reconnect_timeout_s: float = Field(default=1.0, gt=0)  # how long the pool keeps backing off before a fresh try
    db_pool_close_timeout_s: float = Field(default=1.0, gt=0)  # at shutdown, for reconnection attempts to end
    # the mock sender (the only sender today)
    mock_success_probability: float = Field(default=0.92, ge=0, le=1)
    mock_latency: Literal["fixed", "uniform", "lognormal"] = "lognormal"
    mock_latency_mean_ms: float = Field(default=50.0, ge=0)
    mock_seed: int | None = None
    mock_send_log: str | None = None  # path; one line per send attempt, for duplicate counting in tests
    shutdown_grace_s: float = Field(default=20.0, gt=0)

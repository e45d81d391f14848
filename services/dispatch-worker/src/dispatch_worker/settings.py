"""Settings of the dispatch worker, read from the environment once in main.py."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from service_kit.settings import (
    DEFAULT_AMQP_URL,
    DEFAULT_DATABASE_URL,
    PLACEHOLDER_SECRETS,
    BrokerUrl,
    DatabaseUrl,
    ServiceSettings,
)


class Settings(ServiceSettings):
    """Everything the worker can be told through environment variables."""

    service_name: str = "dispatch-worker"
    probe_port: int = Field(default=8082, ge=0, le=65535)  # env PROBE_PORT
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL  # env DATABASE_URL
    amqp_url: BrokerUrl = DEFAULT_AMQP_URL  # env AMQP_URL
    template_svc_addr: str = "localhost:50051"  # env TEMPLATE_SVC_ADDR
    queue_prefix: str = "campaign_sends"  # env QUEUE_PREFIX
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)  # env RETRY_DELAYS_S='[5,30,120]'; one tier each
    # unacked deliveries the broker hands this worker, per lane, at 16 messages each (RELAY_JOB_SIZE): the sends in
    # flight, and what one crash can send twice, follow it. With 50 ms sends, 32 / 64 / 128 drained at 2,189 / 2,609
    # / 3,040 msg/s and one SIGKILL sent 50 / 193 / 334-697 messages twice: 64 (1,024 messages) is the middle
    prefetch: int = Field(default=64, ge=1)
    concurrency: int = Field(default=16, ge=1)  # micro-batches worked at once (a slow send holds only one)
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
    sender: Literal["mock", "kannel"] = "mock"  # env SENDER: which provider adapter sends every message
    # the Kannel sender: smsbox's HTTP sendsms interface
    kannel_url: AnyHttpUrl = AnyHttpUrl("http://localhost:13013/cgi-bin/sendsms")  # env KANNEL_URL
    kannel_username: str = ""  # env KANNEL_USERNAME: a sendsms-user of smsbox
    kannel_password: SecretStr = SecretStr("")  # env KANNEL_PASSWORD; never logged
    kannel_from: str | None = None  # env KANNEL_FROM: the sender id or number; unset: Kannel's own
    kannel_smsc: str | None = None  # env KANNEL_SMSC: route through this smsc-id
    kannel_dlr_mask: int | None = Field(default=None, ge=1, le=31)  # env KANNEL_DLR_MASK; unset: no receipts asked
    kannel_dlr_url: str | None = None  # env KANNEL_DLR_URL; "{message_id}" is replaced by the message's id
    kannel_connect_timeout_s: float = Field(default=2.0, gt=0)
    kannel_timeout_s: float = Field(default=10.0, gt=0)  # smsbox answers once bearerbox has stored the message
    kannel_max_connections: int = Field(default=32, ge=1)  # pooled keep-alive connections to smsbox
    # senders as data (a campaign's sender, else its account's default): where each provider is reached
    aggregator_url: AnyHttpUrl = AnyHttpUrl("https://api.africastalking.com/version1/messaging")  # env AGGREGATOR_URL
    whatsapp_api_url: AnyHttpUrl = AnyHttpUrl("https://graph.facebook.com/v21.0")  # env WHATSAPP_API_URL
    # campaign-api as providers reach it: Kannel senders ask for receipts at <this>/providers/kannel/<token>/receipts
    callback_base_url: AnyHttpUrl | None = None  # env CALLBACK_BASE_URL; unset: Kannel senders ask for no receipts
    provider_timeout_s: float = Field(default=10.0, gt=0)  # env PROVIDER_TIMEOUT_S: one provider call, at most
    provider_connect_timeout_s: float = Field(default=2.0, gt=0)
    provider_max_connections: int = Field(default=32, ge=1)  # pooled keep-alive connections per sender
    provider_connect_retries: int = Field(default=2, ge=0)  # a refused connect is retried (nothing was sent)
    throttle_slowdown_s: float = Field(default=30.0, gt=0)  # a throttled sender runs at half its rate this long
    # a batch waits at most this long for its sender's tokens, holding its claims; beyond, it goes back to the outbox
    max_pacing_wait_s: float = Field(default=10.0, gt=0)  # env MAX_PACING_WAIT_S
    # the mock sender
    mock_success_probability: float = Field(default=0.92, ge=0, le=1)
    mock_latency: Literal["fixed", "uniform", "lognormal"] = "lognormal"
    mock_latency_mean_ms: float = Field(default=50.0, ge=0)
    mock_seed: int | None = None
    mock_send_log: str | None = None  # path; one line per send attempt, for duplicate counting in tests
    shutdown_grace_s: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def require_kannel_credentials(self) -> Settings:
        """The Kannel sender needs a sendsms user; outside dev, a placeholder password is refused."""
        if self.sender != "kannel":
            return self
        password = self.kannel_password.get_secret_value()
        if not self.kannel_username or not password:
            raise ValueError("SENDER=kannel needs KANNEL_USERNAME and KANNEL_PASSWORD (a sendsms-user of smsbox)")
        if not self.is_dev and password.lower() in PLACEHOLDER_SECRETS:
            raise ValueError(f"kannel_password: a placeholder password is refused in {self.deployment_environment!r}")
        return self

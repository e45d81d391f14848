"""campaign-api settings, read from the environment once by main.py."""

from __future__ import annotations

from pathlib import Path

from dispatch.codec import MAX_IDS_PER_JOB
from pydantic import Field, SecretStr
from service_kit.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL, BrokerUrl, DatabaseUrl, ServiceSettings

from campaign_api.migrations import PACKAGED


class Settings(ServiceSettings):
    """Everything campaign-api reads from its environment."""

    service_name: str = "campaign-api"
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL  # env DATABASE_URL
    amqp_url: BrokerUrl = DEFAULT_AMQP_URL  # env AMQP_URL: the outbox relay publishes there
    # the queue topology the relay publishes into: must match the dispatch-worker's (same env vars)
    queue_prefix: str = "campaign_sends"  # env QUEUE_PREFIX
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)  # env RETRY_DELAYS_S='[5,30,120]'
    relay_enabled: bool = True  # env RELAY_ENABLED; every replica may relay (SKIP LOCKED keeps them apart)
    relay_batch_size: int = Field(default=500, ge=1)  # env RELAY_BATCH_SIZE
    template_svc_addr: str = "localhost:50051"  # env TEMPLATE_SVC_ADDR
    http_host: str = "0.0.0.0"  # noqa: S104 - the API must answer on the pod address
    http_port: int = Field(default=8080, ge=0, le=65535)  # env HTTP_PORT
    migrations_dir: Path = PACKAGED  # env MIGRATIONS_DIR; the SQL files shipped in the package by default
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    # the owner-role pool of the relay, the purge and the scheduler's cross-account questions
    db_system_pool_max_size: int = Field(default=3, ge=1)
    # how long a request waits for a pooled connection: short, so a dead database answers 503 quickly
    db_pool_timeout_s: float = Field(default=3.0, gt=0)
    db_connect_timeout_s: int = Field(default=2, ge=1)
    db_reconnect_timeout_s: float = Field(default=1.0, gt=0)  # how long the pool keeps backing off before a fresh try
    template_svc_deadline_s: float = Field(default=2.0, gt=0)  # every gRPC call to template-svc
    # gRPC's own reconnect backoff grows to two minutes; capped, the channel is back within a second of template-svc
    template_svc_reconnect_max_ms: int = Field(default=1000, ge=100)  # env TEMPLATE_SVC_RECONNECT_MAX_MS
    # 100,000 customer ids of 7 digits take about 0.8 MB of JSON; 2 MiB leaves room and still refuses abuse
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    # per API key, counted in PostgreSQL so every replica shares them: requests of any kind, and sends, per window
    rate_limit_requests: int = Field(default=600, ge=1)  # env RATE_LIMIT_REQUESTS
    rate_limit_sends: int = Field(default=30, ge=1)  # env RATE_LIMIT_SENDS
    rate_limit_window_s: int = Field(default=60, ge=1)  # env RATE_LIMIT_WINDOW_S
    # a valid key is remembered this long by each process (0: looked up on every request); a revocation through the
    # process forgets it at once, one through another process or replica holds within this time
    api_key_cache_ttl_s: float = Field(default=2.0, ge=0, le=60)  # env API_KEY_CACHE_TTL_S
    # expired idempotency keys are purged on this timer, never inside a send
    idempotency_purge_interval_s: float = Field(default=600.0, gt=0)
    # --- issue 17: counters and the send's audience expansion ---
    # a send creates this many messages in the request and the rest after the answer, chunk by chunk
    expansion_chunk_size: int = Field(default=5_000, ge=1)  # env EXPANSION_CHUNK_SIZE
    # of which the request itself creates at most this many (small sends are complete when answered)
    expansion_first_chunk_size: int = Field(default=1_000, ge=1)  # env EXPANSION_FIRST_CHUNK_SIZE
    expansion_enabled: bool = True  # env EXPANSION_ENABLED; every replica may expand (SKIP LOCKED)
    # the send answer's expected segments: the first messages rendered for them, within this deadline (then unknown)
    send_estimate_sample: int = Field(default=100, ge=1, le=1_000)  # env SEND_ESTIMATE_SAMPLE
    send_estimate_deadline_s: float = Field(default=0.5, gt=0)  # env SEND_ESTIMATE_DEADLINE_S
    # the relay publishes only while the work queue holds fewer ready messages than this; 0 turns the check off
    relay_high_water: int = Field(default=20_000, ge=0)  # env RELAY_HIGH_WATER
    # messages packed into one broker job (of one lane and one trace); 1 publishes a job per message
    relay_job_size: int = Field(default=16, ge=1, le=MAX_IDS_PER_JOB)  # env RELAY_JOB_SIZE
    counter_compaction_interval_s: float = Field(default=1.0, gt=0)  # env COUNTER_COMPACTION_INTERVAL_S
    web_dist_dir: Path | None = Path("web/dist")  # env WEB_DIST_DIR: the built dashboard, served under /app/ if present
    # --- real channels: the callbacks providers make (docs/channels.md) ---
    # where providers reach this API (https://api.example.com): the senders' callback URLs start with it; unset,
    # with the address each request came to
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")  # env PUBLIC_BASE_URL
    whatsapp_app_secret: SecretStr | None = None  # env WHATSAPP_APP_SECRET: checks X-Hub-Signature-256
    whatsapp_verify_token: SecretStr | None = None  # env WHATSAPP_VERIFY_TOKEN: the webhook's hub.verify_token
    # receipts that came while their message's outcome commit was in flight are applied by this timer
    receipt_sweep_interval_s: float = Field(default=5.0, gt=0)  # env RECEIPT_SWEEP_INTERVAL_S
    receipt_sweep_max_age_s: float = Field(default=86_400.0, gt=0)  # env RECEIPT_SWEEP_MAX_AGE_S
    # --- contacts: CSV imports ---
    import_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)  # env IMPORT_MAX_BYTES: one CSV upload
    import_max_rows: int = Field(default=1_000_000, ge=1)  # env IMPORT_MAX_ROWS: rows of one CSV file
    # numbers written without a country code are read in this region (ISO 3166 code)
    import_default_region: str = Field(default="KE", pattern="^[A-Z]{2}$")  # env IMPORT_DEFAULT_REGION
    # processes that check rows and normalise phones (0: a thread of the API process)
    import_workers: int = Field(default=2, ge=0, le=16)  # env IMPORT_WORKERS

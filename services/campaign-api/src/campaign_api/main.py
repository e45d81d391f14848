"""Composition root: builds the app from settings, owns the lifespan, and the `campaign-api` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import FrameType

import psycopg
from dispatch.relay import RelaySettings, relay_running
from dispatch.topology import Topology
from fastapi import FastAPI
from grpc import aio
from prometheus_client import REGISTRY, CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from service_kit.json_logs import configure_logging
from service_kit.readiness import Check

from campaign_api.api.access_log import AccessLogMiddleware
from campaign_api.api.deps import ApiState
from campaign_api.api.errors import install_error_handlers
from campaign_api.api.middleware import (
    BodySizeLimitMiddleware,
    JsonBodyMiddleware,
    RequestMetricsMiddleware,
    UnexpectedErrorMiddleware,
)
from campaign_api.api.routes import campaigns, customers, operations
from campaign_api.api.web_app import mount_web_app
from campaign_api.grpc.template_client import GrpcTemplateRenderer
from campaign_api.metrics import ApiMetrics
from campaign_api.migrations import apply_migrations
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import idempotency_keys
from campaign_api.repositories.connection import Pool
from campaign_api.settings import Settings
from campaign_api.usecases.cancel_campaign import CancelCampaign
from campaign_api.usecases.create_campaign import CreateCampaign
from campaign_api.usecases.create_customer import CreateCustomer
from campaign_api.usecases.get_campaign import GetCampaign
from campaign_api.usecases.get_customer import GetCustomer
from campaign_api.usecases.list_campaigns import ListCampaigns
from campaign_api.usecases.list_customers import ListCustomers
from campaign_api.usecases.list_due_campaigns import ListDueCampaigns
from campaign_api.usecases.preview_message import PreviewMessage
from campaign_api.usecases.seed_database import SeedDatabase
from campaign_api.usecases.send_campaign import SendCampaign
from campaign_api.usecases.update_campaign import UpdateCampaign

log = logging.getLogger(__name__)

OPENAPI_DESCRIPTION = """
Create SMS and WhatsApp campaigns, preview them per customer, and send them to up to 100,000 customers per call.
Every error answers `{"error": {"code": "UPPER_SNAKE", "message": "..."}}`.
"""


def utc_now() -> datetime:
    """The wall clock, aware, in UTC."""
    return datetime.now(UTC)


def build_usecases(settings: Settings, pool: Pool, renderer: TemplateRenderer, clock: Clock) -> dict[type, object]:
    """Every use case, over one pool and one renderer, keyed by its type (routes ask for it with `use(Type)`)."""
    built = (
        CreateCampaign(pool, renderer, clock),
        ListCampaigns(pool),
        ListDueCampaigns(pool),
        GetCampaign(pool),
        SendCampaign(pool, clock, settings.idempotency_ttl_hours),
        PreviewMessage(pool, renderer),
        CreateCustomer(pool),
        ListCustomers(pool),
        GetCustomer(pool),
        UpdateCampaign(pool, renderer, clock),
        CancelCampaign(pool),
    )
    return {type(usecase): usecase for usecase in built}


@contextlib.asynccontextmanager
async def purging_idempotency_keys(pool: Pool, settings: Settings) -> AsyncIterator[None]:
    """Forget expired idempotency keys on a timer, off the send's path (the lookup ignores them anyway)."""

    async def purge_forever() -> None:
        while True:
            try:
                async with pool.connection() as conn:
                    await idempotency_keys.purge_expired(conn, settings.idempotency_ttl_hours)
            except psycopg.Error as exc:
                log.warning("idempotency key purge failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(settings.idempotency_purge_interval_s)

    task = asyncio.create_task(purge_forever(), name="idempotency-purge")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def open_pool(settings: Settings) -> Pool:
    """A pool that is not open yet; every session speaks UTC so timestamps leave with +00:00."""
    return AsyncConnectionPool(
        str(settings.database_url),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=settings.db_pool_timeout_s,
        kwargs={"connect_timeout": settings.db_connect_timeout_s, "options": "-c timezone=UTC"},
        # a connection broken by a database restart is replaced before a request gets it
        check=AsyncConnectionPool.check_connection,
        # end the pool's own reconnect backoff (1 s doubling) quickly: the next request then connects at once, so
        # the API and the relay are back within about a second of the database's return
        reconnect_timeout=settings.db_reconnect_timeout_s,
        name="campaign-api",
        open=False,
    )


def database_check(pool: Pool) -> Check:
    """Readiness of the database: a pooled connection answers SELECT 1."""

    async def check() -> None:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")

    return check


def create_app(
    settings: Settings,
    *,
    renderer: TemplateRenderer | None = None,
    registry: CollectorRegistry | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The ASGI app. Tests inject a renderer, a private metrics registry or a clock."""
    metrics = ApiMetrics.register(registry if registry is not None else CollectorRegistry())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = open_pool(settings)
        # do not wait for the database: the API starts, answers 503 meanwhile, and recovers when it returns
        await pool.open(wait=False)
        channel: aio.Channel | None = None
        try:
            active = renderer
            if active is None:
                channel = aio.insecure_channel(
                    settings.template_svc_addr,
                    options=[
                        ("grpc.initial_reconnect_backoff_ms", 100),
                        ("grpc.min_reconnect_backoff_ms", 100),
                        ("grpc.max_reconnect_backoff_ms", settings.template_svc_reconnect_max_ms),
                    ],
                )
                active = GrpcTemplateRenderer.over(channel, settings.template_svc_deadline_s)
            app.state.api = ApiState(
                usecases=build_usecases(settings, pool, active, clock),
                readiness_checks={"database": database_check(pool), "template-svc": active.check},
            )
            async with contextlib.AsyncExitStack() as background:
                await background.enter_async_context(purging_idempotency_keys(pool, settings))
                if settings.relay_enabled:
                    # the relay publishes committed sends; at shutdown it finishes its batch before the pool closes
                    topology = Topology(settings.queue_prefix, settings.retry_delays_s)
                    relay = RelaySettings(batch_size=settings.relay_batch_size)
                    await background.enter_async_context(
                        relay_running(pool, str(settings.amqp_url), metrics.registry, topology, relay)
                    )
                yield
        finally:
            if channel is not None:
                await channel.close()
            await pool.close()

    app = FastAPI(
        title="Campaign Dispatch API",
        version=settings.service_version,
        description=OPENAPI_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(campaigns.router)
    app.include_router(customers.router)
    app.include_router(operations.router)
    mount_web_app(app, settings.web_dist_dir)
    # outermost first at runtime: metrics see every answer, including the 413s and 500s produced inside
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(AccessLogMiddleware)
    return app


def instrument(app: FastAPI) -> None:
    """Trace HTTP requests, SQL statements, relay publishes and gRPC calls (process-wide; only the served app)."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics")
    PsycopgInstrumentor().instrument()
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]
    # the relay's publish span continues each row's stored traceparent and writes its own into the AMQP headers
    AioPikaInstrumentor().instrument()


def exit_after_graceful_stop(signum: int, frame: FrameType | None) -> None:
    """End the process with status 0 (installed for the SIGTERM uvicorn re-raises after its shutdown)."""
    raise SystemExit(0)


def serve(settings: Settings) -> None:
    """Run the API under uvicorn until SIGTERM/SIGINT (uvicorn drains in-flight requests first)."""
    import uvicorn
    from service_kit.telemetry import configure_tracing

    configure_tracing(settings)
    app = create_app(settings, registry=REGISTRY)
    instrument(app)
    log.info("campaign-api listening", extra={"host": settings.http_host, "port": settings.http_port})
    # uvicorn drains, then raises the SIGTERM it caught again: exit 0 then, since the stop was graceful
    signal.signal(signal.SIGTERM, exit_after_graceful_stop)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)


def migrate(settings: Settings) -> int:
    """Apply the pending SQL migrations; return how many ran."""
    applied = apply_migrations(settings.database_url, settings.migrations_dir)
    log.info("migrations applied", extra={"applied": applied, "directory": str(settings.migrations_dir)})
    return applied


async def seed(settings: Settings, clock: Clock = utc_now) -> None:
    """Load the demo data (idempotent)."""
    async with await psycopg.AsyncConnection.connect(str(settings.database_url), options="-c timezone=UTC") as conn:
        report = await SeedDatabase(clock)(conn)
    log.info(
        "seed loaded",
        extra={
            "customers_added": report.customers_added,
            "campaigns": report.campaigns_total,
            "messages_added": report.messages_added,
        },
    )


def cli(argv: Sequence[str] | None = None) -> None:
    """`campaign-api [serve|migrate|seed]`; serve is the default."""
    parser = argparse.ArgumentParser(prog="campaign-api", description="Campaign Dispatch REST API")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate", "seed"))
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "seed":
        asyncio.run(seed(settings))
    else:
        serve(settings)

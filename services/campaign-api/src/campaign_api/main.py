"""Composition root: builds the app from settings, owns the lifespan, and the `campaign-api` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import FrameType, MappingProxyType
from typing import Any

import psycopg
from dispatch.lifecycle import Channel
from dispatch.pool_check import check_pooled_connection
from dispatch.relay import RelaySettings, relay_running
from dispatch.topology import Topology
from fastapi import FastAPI
from grpc import aio
from prometheus_client import REGISTRY, CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from service_kit.json_logs import configure_logging
from service_kit.readiness import Check

from campaign_api.accounts import ACCOUNT_SCOPES, SYSTEM_SCOPES, Scope, key_hash, operator_of, parse_scopes
from campaign_api.amqp.dead_letter_queue import RabbitDeadLetterQueue
from campaign_api.api.access_log import AccessLogMiddleware
from campaign_api.api.deps import ApiState
from campaign_api.api.errors import install_error_handlers
from campaign_api.api.middleware import (
    BodySizeLimitMiddleware,
    JsonBodyMiddleware,
    RequestMetricsMiddleware,
    UnexpectedErrorMiddleware,
)
from campaign_api.api.routes import accounts as account_routes
from campaign_api.api.routes import campaigns, contacts, customers, operations, providers, senders
from campaign_api.api.routes import compliance as compliance_routes
from campaign_api.api.routes import operator_controls as operator_control_routes
from campaign_api.api.uploads import STREAMED_UPLOADS
from campaign_api.api.web_app import mount_web_app
from campaign_api.channels import InvalidSender, NewSender, Provider, SenderRow, new_callback_token
from campaign_api.counters import compacting_counters
from campaign_api.errors import AccountExists, AccountNotFound
from campaign_api.grpc.template_client import GrpcTemplateRenderer
from campaign_api.metrics import ApiMetrics
from campaign_api.migrations import apply_migrations
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import accounts, audit_events, idempotency_keys
from campaign_api.repositories import senders as sender_repository
from campaign_api.repositories.connection import (
    Connection,
    Pool,
    enter_account,
    use_app_role,
)
from campaign_api.settings import Settings
from campaign_api.usecases.add_suppression import AddSuppression
from campaign_api.usecases.authenticate import Authenticate, KeyCache, RateLimits
from campaign_api.usecases.cancel_campaign import CancelCampaign
from campaign_api.usecases.create_campaign import CreateCampaign
from campaign_api.usecases.create_customer import CreateCustomer
from campaign_api.usecases.declare_attribute import DeclareAttribute, ListAttributes
from campaign_api.usecases.erase_customer import EraseCustomer
from campaign_api.usecases.expand_audiences import ExpandAudiences, expanding_audiences
from campaign_api.usecases.export_customers import ExportCustomers
from campaign_api.usecases.get_campaign import GetCampaign
from campaign_api.usecases.get_compliance_settings import GetComplianceSettings
from campaign_api.usecases.get_customer import GetCustomer
from campaign_api.usecases.import_customers import ImportCustomers, ImportLimits
from campaign_api.usecases.issue_api_key import IssueApiKey, store_key
from campaign_api.usecases.lift_suppression import LiftSuppression
from campaign_api.usecases.list_api_keys import ListApiKeys
from campaign_api.usecases.list_audit_events import ListAuditEvents
from campaign_api.usecases.list_campaigns import ListCampaigns
from campaign_api.usecases.list_customers import ListCustomers

# operator controls
from campaign_api.usecases.list_dead_letters import ListDeadLetters
from campaign_api.usecases.list_due_campaigns import ListDueCampaigns
from campaign_api.usecases.list_inbound_messages import ListInboundMessages
from campaign_api.usecases.list_suppressions import ListSuppressions
from campaign_api.usecases.manage_senders import CreateSender, DeleteSender, GetSender, ListSenders, UpdateSender
from campaign_api.usecases.pause_campaign import PauseCampaign
from campaign_api.usecases.preview_message import PreviewMessage
from campaign_api.usecases.provider_callbacks import (
    RecordInbound,
    RecordOptOut,
    RecordReceipts,
    ResolveSender,
    SweepReceipts,
    sweeping_receipts,
)
from campaign_api.usecases.put_compliance_settings import PutComplianceSettings
from campaign_api.usecases.receive_inbound_message import ReceiveInboundMessage
from campaign_api.usecases.replay_dead_letters import ReplayDeadLetters, RetryFailed
from campaign_api.usecases.resume_campaign import ResumeCampaign
from campaign_api.usecases.revoke_api_key import RevokeApiKey
from campaign_api.usecases.saved_segments import CountSegment, ListSegments, SaveSegment
from campaign_api.usecases.seed_database import SeedDatabase
from campaign_api.usecases.send_campaign import SendCampaign
from campaign_api.usecases.set_pace import GetPace, SetPace
from campaign_api.usecases.update_campaign import UpdateCampaign
from campaign_api.usecases.update_customer import UpdateCustomer

log = logging.getLogger(__name__)

OPENAPI_DESCRIPTION = """
Create SMS and WhatsApp campaigns, preview them per customer, and send them to up to 100,000 customers per call.
Every error answers `{"error": {"code": "UPPER_SNAKE", "message": "..."}}`.

Every route but `/health`, `/ready`, `/metrics` and the docs takes an API key of your account:
`Authorization: Bearer <key>` (the Authorize button below). A key holds scopes; each operation names the one it needs.
"""


def utc_now() -> datetime:
    """The wall clock, aware, in UTC."""
    return datetime.now(UTC)


def build_usecases(
    settings: Settings,
    pool: Pool,
    system_pool: Pool,
    renderer: TemplateRenderer,
    clock: Clock,
    metrics: ApiMetrics,
) -> dict[type, object]:
    """Every use case, keyed by its type (routes ask for it with `use(Type)`).

    `pool` is the request pool (role campaign_app, bound by row-level security to the account each transaction
    sets); `system_pool` keeps the owner's role for the scheduler's cross-account questions.
    """
    keys = KeyCache(settings.api_key_cache_ttl_s)
    built = (
        Authenticate(
            pool,
            RateLimits(
                settings.rate_limit_window_s,
                MappingProxyType({"api": settings.rate_limit_requests, "send": settings.rate_limit_sends}),
            ),
            keys,
        ),
        CreateCampaign(pool, renderer, clock),
        ListCampaigns(pool),
        ListDueCampaigns(pool, system_pool),
        GetCampaign(pool),
        SendCampaign(
            pool,
            system_pool,
            clock,
            renderer,
            settings.idempotency_ttl_hours,
            min(settings.expansion_first_chunk_size, settings.expansion_chunk_size),
            settings.send_estimate_sample,
            settings.send_estimate_deadline_s,
        ),
        PreviewMessage(pool, renderer),
        CreateCustomer(pool),
        ListCustomers(pool),
        GetCustomer(pool),
        UpdateCampaign(pool, renderer, clock),
        CancelCampaign(pool),
        IssueApiKey(pool),
        ListApiKeys(pool),
        RevokeApiKey(pool, keys),
        ListAuditEvents(pool),
        # real channels: senders, and the providers' callbacks
        CreateSender(pool, clock),
        ListSenders(pool),
        GetSender(pool),
        UpdateSender(pool, clock),
        DeleteSender(pool),
        ResolveSender(pool),
        RecordReceipts(pool, metrics),
        RecordInbound(pool, metrics),
        RecordOptOut(pool, metrics),
        # compliance (issue 15)
        AddSuppression(pool),
        ListSuppressions(pool),
        LiftSuppression(pool),
        GetComplianceSettings(pool),
        PutComplianceSettings(pool, clock),
        ReceiveInboundMessage(pool),
        ListInboundMessages(pool),
        # contacts
        ImportCustomers(
            pool,
            ImportLimits(
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
                default_region=settings.import_default_region,
                workers=settings.import_workers,
            ),
        ),
        UpdateCustomer(pool),
        EraseCustomer(pool),
        ExportCustomers(pool),
        DeclareAttribute(pool),
        ListAttributes(pool),
        SaveSegment(pool),
        ListSegments(pool),
        CountSegment(pool),
        *operator_controls(settings, pool, system_pool),
    )
    return {type(usecase): usecase for usecase in built}


def operator_controls(settings: Settings, pool: Pool, system_pool: Pool) -> tuple[object, ...]:
    """Pause, resume, pace, dead letters and their replay; a replay prunes the DLQ over the owner's pool."""
    topology = Topology(settings.queue_prefix, settings.retry_delays_s)
    dead_letter_queue = RabbitDeadLetterQueue(system_pool, str(settings.amqp_url), topology)
    return (
        PauseCampaign(pool),
        ResumeCampaign(pool),
        SetPace(pool),
        GetPace(pool),
        ListDeadLetters(pool),
        ReplayDeadLetters(pool, dead_letter_queue),
        RetryFailed(pool, dead_letter_queue),
    )


@contextlib.asynccontextmanager
async def purging_idempotency_keys(pool: Pool, settings: Settings) -> AsyncIterator[None]:
    """Forget expired idempotency keys and old rate-limit windows on a timer, off the request path (the lookups
    ignore them anyway); over the owner's pool, since both cross accounts."""

    async def purge_forever() -> None:
        while True:
            try:
                async with pool.connection() as conn:
                    await idempotency_keys.purge_expired(conn, settings.idempotency_ttl_hours)
                    # rate-limit windows that ended a window ago count nothing any more
                    await accounts.purge_rate_limit_windows(conn, 2 * settings.rate_limit_window_s)
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


def _pool(settings: Settings, name: str, min_size: int, max_size: int, **extra: Any) -> Pool:
    """A pool that is not open yet, on the settings' database; every session speaks UTC (timestamps leave +00:00)."""
    return AsyncConnectionPool(
        str(settings.database_url),
        min_size=min_size,
        max_size=max_size,
        timeout=settings.db_pool_timeout_s,
        kwargs={"connect_timeout": settings.db_connect_timeout_s, "options": "-c timezone=UTC"},
        # a connection broken by a database restart is replaced before a request gets it (a query only when the
        # socket says something happened: the check of every checkout was a round trip of its own)
        check=check_pooled_connection,
        # end the pool's own reconnect backoff (1 s doubling) quickly: the next request then connects at once, so
        # the API and the relay are back within about a second of the database's return
        reconnect_timeout=settings.db_reconnect_timeout_s,
        name=name,
        open=False,
        **extra,
    )


def open_pool(settings: Settings) -> Pool:
    """The request pool: every connection runs as campaign_app, so row-level security applies."""
    return _pool(settings, "campaign-api", settings.db_pool_min_size, settings.db_pool_max_size, configure=use_app_role)


def open_system_pool(settings: Settings) -> Pool:
    """The cross-account pool, in the owner's role: the outbox relay, the purges, and the scheduler's due list and
    account lookup. Small: none of it is per request of an account."""
    return _pool(settings, "campaign-api-system", 1, settings.db_system_pool_max_size)


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
        pool, system_pool = open_pool(settings), open_system_pool(settings)
        # do not wait for the database: the API starts, answers 503 meanwhile, and recovers when it returns
        await pool.open(wait=False)
        await system_pool.open(wait=False)
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
                usecases=build_usecases(settings, pool, system_pool, active, clock, metrics),
                readiness_checks={"database": database_check(pool), "template-svc": active.check},
            )
            async with contextlib.AsyncExitStack() as background:
                await background.enter_async_context(purging_idempotency_keys(system_pool, settings))
                sweep = SweepReceipts(system_pool, settings.receipt_sweep_max_age_s)
                await background.enter_async_context(sweeping_receipts(sweep, settings.receipt_sweep_interval_s))
                # issue 17: the counters' compaction, and the creation of accepted sends' messages after the answer
                await background.enter_async_context(
                    compacting_counters(system_pool, settings.counter_compaction_interval_s)
                )
                if settings.expansion_enabled:
                    expand = ExpandAudiences(pool, system_pool, settings.expansion_chunk_size)
                    await background.enter_async_context(expanding_audiences(expand))
                if settings.relay_enabled:
                    # the relay publishes committed sends; at shutdown it finishes its batch before the pool closes
                    topology = Topology(settings.queue_prefix, settings.retry_delays_s)
                    relay = RelaySettings(
                        batch_size=settings.relay_batch_size,
                        high_water=settings.relay_high_water or None,
                        job_size=settings.relay_job_size,
                    )
                    await background.enter_async_context(
                        relay_running(system_pool, str(settings.amqp_url), metrics.registry, topology, relay)
                    )
                # running imports are stopped (and marked failed) before the pool closes
                imports = app.state.api.usecases[ImportCustomers]
                background.push_async_callback(imports.close)
                yield
        finally:
            if channel is not None:
                await channel.close()
            await pool.close()
            await system_pool.close()

    app = FastAPI(
        title="Campaign Dispatch API",
        version=settings.service_version,
        description=OPENAPI_DESCRIPTION,
        lifespan=lifespan,
        # tracing is the OpenTelemetry instrumentation's (instrument()); FastAPI's own would only wrap every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.metrics = metrics
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(campaigns.router)
    # before customers: /customers/export and /customers/imports must not be read as /customers/{customer_id}
    app.include_router(contacts.router)
    app.include_router(customers.router)
    app.include_router(account_routes.router)
    app.include_router(compliance_routes.router)
    app.include_router(operations.router)
    app.include_router(senders.router)
    app.include_router(providers.router)
    app.include_router(operator_control_routes.router)
    mount_web_app(app, settings.web_dist_dir)
    # outermost first at runtime: metrics see every answer, including the 413s and 500s produced inside
    app.add_middleware(JsonBodyMiddleware, streamed_paths=STREAMED_UPLOADS)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, streamed_paths=STREAMED_UPLOADS)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(AccessLogMiddleware)
    return app


def instrument(app: FastAPI, settings: Settings) -> None:
    """Trace HTTP requests, relay publishes and gRPC calls (process-wide; only the served app), and SQL statements
    when spans are exported.

    The HTTP span carries the trace id into logs and the outbox's stored traceparent, and the AMQP and gRPC wrappers
    carry it on, so those run even when nothing is exported. A SQL span only records: without an exporter its
    wrapper costs every statement and tells nobody anything. The HTTP span's internal receive/send spans are left
    out (two per request, and nothing in them a reader of a trace misses).
    """
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient

    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics", exclude_spans=["receive", "send"])
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

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
    instrument(app, settings)
    log.info("campaign-api listening", extra={"host": settings.http_host, "port": settings.http_port})
    # uvicorn drains, then raises the SIGTERM it caught again: exit 0 then, since the stop was graceful
    signal.signal(signal.SIGTERM, exit_after_graceful_stop)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)


def migrate(settings: Settings) -> int:
    """Apply the pending SQL migrations; return how many ran."""
    applied = apply_migrations(settings.database_url, settings.migrations_dir)
    log.info("migrations applied", extra={"applied": applied, "directory": str(settings.migrations_dir)})
    return applied


async def connect(settings: Settings) -> Connection:
    """A connection of its own, in the owner's role, for the CLI."""
    return await psycopg.AsyncConnection.connect(str(settings.database_url), options="-c timezone=UTC")


async def find_account(conn: Connection, account: str) -> int:
    """An account by id or by name."""
    found = await accounts.get_account(conn, int(account)) if account.isdigit() else None
    found = found or await accounts.get_account_by_name(conn, account)
    if found is None:
        raise AccountNotFound(account)
    return found.id


async def create_account(settings: Settings, name: str) -> int:
    """`campaign-api accounts create NAME`: the new account's id."""
    async with await connect(settings) as conn, conn.transaction():
        created = await accounts.insert_account(conn, name)
    if created is None:
        raise AccountExists(name)
    return created.id


async def ensure_account(conn: Connection, name: str) -> int:
    """The account of that name, created when missing."""
    existing = await accounts.get_account_by_name(conn, name)
    if existing is not None:
        return existing.id
    created = await accounts.insert_account(conn, name)
    return created.id if created is not None else await find_account(conn, name)


async def ensure_sender(settings: Settings, account: str, sender: NewSender) -> SenderRow:
    """`campaign-api senders ensure`: the account's sender of that name, created (checked as the API does) when
    missing; a new default takes the place of the channel's old one."""
    sender.check()
    async with await connect(settings) as conn, conn.transaction():
        account_id = await find_account(conn, account)
        await enter_account(conn, account_id)
        existing = await sender_repository.get_by_name(conn, sender.name)
        if existing is not None:
            return existing
        if sender.is_default:
            await sender_repository.clear_default(conn, sender.channel)
        return await sender_repository.ensure(conn, sender, new_callback_token())


def run_senders_ensure(settings: Settings, args: argparse.Namespace) -> None:
    """`senders ensure`: print the sender as JSON (its callback URLs, never credentials) on stdout, alone."""
    from campaign_api.api.sender_schemas import SenderBody

    sender = NewSender(
        name=args.name,
        channel=Channel(args.channel),
        provider=Provider(args.provider),
        address=args.address,
        credentials_ref=args.credentials_ref,
        is_default=args.default,
    )
    row = asyncio.run(ensure_sender(settings, args.account, sender))
    base = settings.public_base_url or f"http://localhost:{settings.http_port}"
    sys.stdout.write(SenderBody.of(row, base).model_dump_json() + "\n")


async def create_key(
    settings: Settings, account: str | None, scopes: frozenset[Scope], name: str, secret: str | None = None
) -> str:
    """`campaign-api keys create`: a new key of the account (or the system key when account is None), printed once.

    With `secret` (DEV_API_KEY, local development) that value is the key, and a key already stored with it is
    left as it is.
    """
    async with await connect(settings) as conn, conn.transaction():
        account_id = None if account is None else await find_account(conn, account)
        if secret is not None and await accounts.key_id_by_hash(conn, key_hash(secret)) is not None:
            return secret
        issued = await store_key(conn, account_id, name, scopes, secret)
        if account_id is not None:
            await enter_account(conn, account_id)
            changes = {"name": name, "prefix": issued.key.prefix, "scopes": sorted(scopes), "by": "cli"}
            await audit_events.record(
                conn, operator_of(account_id), "api_key.created", "api_key", issued.key.id, changes
            )
    # nothing is logged here: the CLI's stdout (where the JSON logs go too) carries the key alone; the audit row and
    # the key listing record it
    return issued.secret


async def seed(settings: Settings, account: str = "demo", clock: Clock = utc_now) -> int:
    """Load the demo data into the account (created when missing; idempotent); return the account's id."""
    async with await connect(settings) as conn:
        async with conn.transaction():
            account_id = await ensure_account(conn, account)
        report = await SeedDatabase(clock)(conn, account_id)
    log.info(
        "seed loaded",
        extra={
            "account_id": account_id,
            "customers_added": report.customers_added,
            "campaigns": report.campaigns_total,
            "messages_added": report.messages_added,
        },
    )
    return account_id


def parser() -> argparse.ArgumentParser:
    """`campaign-api [serve|migrate|seed|accounts create|keys create|senders ensure]`; serve is the default."""
    root = argparse.ArgumentParser(prog="campaign-api", description="Campaign Dispatch REST API")
    commands = root.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the API (the default)")
    commands.add_parser("migrate", help="apply the pending SQL migrations")
    seeding = commands.add_parser("seed", help="load the demo data into an account (created when missing)")
    seeding.add_argument("--account", default="demo", help="account name (default: demo)")
    account_commands = commands.add_parser("accounts", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    account_commands.add_parser("create", help="create an account; prints its id").add_argument("name")
    key_commands = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    create = key_commands.add_parser("create", help="create an API key; prints it (shown once)")
    create.add_argument("account", nargs="?", help="account id or name")
    create.add_argument("--scopes", default="", help=f"comma-separated, or 'all': {', '.join(sorted(ACCOUNT_SCOPES))}")
    create.add_argument("--system", action="store_true", help="the scheduler's system key (campaigns:schedule)")
    create.add_argument("--name", default=None, help="a label shown in key listings")
    create.add_argument(
        "--from-env", metavar="VAR", default=None, help="use the key in environment variable VAR when it is set"
    )
    sender_commands = commands.add_parser("senders", help="manage senders").add_subparsers(dest="action", required=True)
    ensure = sender_commands.add_parser("ensure", help="create a sender unless the account has one of that name")
    ensure.add_argument("account", help="account id or name")
    ensure.add_argument("--name", required=True)
    ensure.add_argument("--channel", choices=[c.value for c in Channel], default="sms")
    ensure.add_argument("--provider", choices=[p.value for p in Provider], required=True)
    ensure.add_argument("--address", required=True, help="sender id, short code, number, or phone number id")
    ensure.add_argument("--credentials-ref", default=None, help="the NAME of the env var holding its credentials")
    ensure.add_argument("--default", action="store_true", help="the channel's default sender of the account")
    return root


def key_scopes(args: argparse.Namespace) -> frozenset[Scope]:
    """The scopes `keys create` was asked for."""
    if args.system:
        return SYSTEM_SCOPES
    if args.scopes == "all":
        return ACCOUNT_SCOPES
    scopes = parse_scopes(name for name in args.scopes.split(",") if name.strip())
    if not scopes or not scopes <= ACCOUNT_SCOPES:
        raise SystemExit(f"--scopes: give some of {', '.join(sorted(ACCOUNT_SCOPES))} (or 'all')")
    return scopes


def run_keys_create(settings: Settings, args: argparse.Namespace) -> None:
    """`keys create`: print the new key on stdout, alone, so scripts can capture it."""
    if args.system == (args.account is not None):
        raise SystemExit("keys create: name an ACCOUNT, or pass --system for the scheduler's key")
    try:
        scopes = key_scopes(args)
    except ValueError as exc:
        raise SystemExit(f"--scopes: {exc}") from exc
    secret = os.environ.get(args.from_env) if args.from_env else None
    if secret is not None and len(secret) < 32:
        raise SystemExit(f"{args.from_env}: a key must be at least 32 characters long")
    name = args.name or ("scheduler" if args.system else "cli")
    key = asyncio.run(create_key(settings, None if args.system else args.account, scopes, name, secret or None))
    sys.stdout.write(key + "\n")


def cli(argv: Sequence[str] | None = None) -> None:
    """`campaign-api [serve|migrate|seed|accounts create NAME|keys create ...]`; serve is the default."""
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    try:
        if args.command == "migrate":
            migrate(settings)
        elif args.command == "seed":
            asyncio.run(seed(settings, args.account))
        elif args.command == "accounts":
            sys.stdout.write(f"{asyncio.run(create_account(settings, args.name))}\n")
        elif args.command == "keys":
            run_keys_create(settings, args)
        elif args.command == "senders":
            run_senders_ensure(settings, args)
        else:
            serve(settings)
    except (AccountExists, AccountNotFound, InvalidSender) as exc:
        raise SystemExit(f"{exc.code}: {exc}") from exc

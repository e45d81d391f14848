"""Composition root: build the settings, the adapters and the tick loop, then run until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from prometheus_client import REGISTRY, CollectorRegistry
from service_kit.json_logs import configure_logging
from service_kit.probe_server import serve_probes
from service_kit.telemetry import configure_tracing

from scheduler.clock import utc_now
from scheduler.http.campaign_api import HttpCampaignApi
from scheduler.metrics import PrometheusTickRecorder
from scheduler.ports import Clock
from scheduler.runner import TickLoop
from scheduler.settings import Settings
from scheduler.usecases.tick import RunTick

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def build_client(settings: Settings) -> httpx.AsyncClient:
    """An AsyncClient for campaign-api that carries the W3C trace context on every request."""
    key = settings.scheduler_api_key
    # the key travels in a header only: never in a URL, a log line or a span attribute
    headers = {} if key is None else {"Authorization": f"Bearer {key.get_secret_value()}"}
    client = httpx.AsyncClient(base_url=settings.campaign_api_url, timeout=settings.request_timeout_s, headers=headers)
    HTTPXClientInstrumentor.instrument_client(client)
    return client


async def run(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock = utc_now,
    registry: CollectorRegistry = REGISTRY,
) -> None:
    """Serve the probes and tick until stop is set; the tick in hand finishes first."""
    recorder = PrometheusTickRecorder.register(registry)
    async with build_client(settings) as client:
        api = HttpCampaignApi(client)
        tick = RunTick(
            api=api,
            clock=clock,
            recorder=recorder,
            batch_limit=settings.batch_limit,
            max_concurrent_dispatches=settings.max_concurrent_dispatches,
        )
        loop = TickLoop(tick=tick, interval_s=settings.poll_interval_s, jitter=settings.poll_jitter)
        checks = {"campaign-api": api.check_health}
        async with serve_probes(settings.probe_host, settings.probe_port, checks) as probe_port:
            log.info(
                "scheduler started",
                extra={
                    "probe_port": probe_port,
                    "campaign_api_url": settings.campaign_api_url,
                    "poll_interval_s": settings.poll_interval_s,
                },
            )
            await loop.run(stop)


async def serve(settings: Settings) -> None:
    """Run the scheduler until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    event_loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        # the probe server captures these while it runs and raises them again once it has stopped,
        # so this handler still fires, after the probes went quiet
        event_loop.add_signal_handler(sig, stop.set)
    try:
        await run(settings, stop)
    finally:
        for sig in STOP_SIGNALS:
            event_loop.remove_signal_handler(sig)


def cli() -> None:
    """Console entry point `scheduler`."""
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    # httpx logs every request at INFO: one poll a second would bury the log; each request is a span instead
    logging.getLogger("httpx").setLevel(logging.WARNING)
    configure_tracing(settings)
    asyncio.run(serve(settings))

"""A stand-in for the four services' /metrics: the metric catalogue, named exactly as the services name it.

One registry and one HTTP server per scrape job, each with prometheus-client's default process, platform and GC
collectors, fed by a background workload that keeps counters rising, histograms filling and gauges moving. The
workload plays a *degraded* platform on purpose (failures, 5xx, a growing DLQ and outbox, a stuck work queue, a late
and silent scheduler) so every alert expression has series that satisfy it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Protocol

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# Every name each service exposes besides the default collectors: the contract the dashboard and alerts use.
CATALOGUE: Final[Mapping[str, tuple[str, ...]]] = {
    "campaign-api": (
        "http_server_request_duration_seconds",
        "campaigns_created_total",
        "campaigns_dispatched_total",
        "outbox_backlog_messages",
        "dispatch_messages_published_total",
    ),
    "dispatch-worker": (
        "dispatch_messages_sent_total",
        "dispatch_messages_failed_total",
        "dispatch_messages_retried_total",
        "dispatch_messages_dead_lettered_total",
        "dispatch_send_duration_seconds",
        "dispatch_queue_depth_messages",
        "dispatch_batch_size",
    ),
    "template-svc": (
        "grpc_server_handled_total",
        "grpc_server_handling_seconds",
        "template_renders_total",
    ),
    "scheduler": (
        "scheduler_dispatch_lag_seconds",
        "scheduler_campaigns_dispatched_total",
        "scheduler_errors_total",
        "scheduler_last_tick_timestamp_seconds",
    ),
}
CHANNELS: Final = ("sms", "whatsapp")
QUEUE_PREFIX: Final = "campaign_sends"
ROUTES: Final = ("/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/send")
GRPC_METHODS: Final = ("RenderBatch", "Render", "Validate")
TICK_S: Final = 0.1
LAG_BUCKETS: Final = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Workload(Protocol):
    registry: CollectorRegistry

    def tick(self, n: int) -> None: ...


def new_registry() -> CollectorRegistry:
    """A registry with the default process, platform and GC collectors every service exposes."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    if GC_COLLECTOR is not None:
        GCCollector(registry=registry)
    return registry


@dataclass
class CampaignApiMetrics:
    registry: CollectorRegistry = field(default_factory=new_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.request_duration = Histogram(
            "http_server_request_duration_seconds",
            "HTTP request duration by route template",
            ["route", "method", "status_code"],
            registry=r,
        )
        self.created = Counter("campaigns_created_total", "Campaigns created", ["channel"], registry=r)
        self.dispatched = Counter("campaigns_dispatched_total", "Campaigns dispatched", ["channel"], registry=r)
        self.backlog = Gauge("outbox_backlog_messages", "Outbox rows not yet published", registry=r)
        self.published = Counter(
            "dispatch_messages_published_total", "Jobs published after broker confirm", ["channel"], registry=r
        )

    def tick(self, n: int) -> None:
        """One slice of API traffic: every tenth request fails with 500, the outbox keeps growing."""
        for i, route in enumerate(ROUTES):
            status = "500" if (n + i) % 10 == 0 else "200"
            self.request_duration.labels(route, "POST" if route.endswith("send") else "GET", status).observe(
                0.01 * (1 + i)
            )
        for channel in CHANNELS:
            self.created.labels(channel).inc()
            self.dispatched.labels(channel).inc()
            self.published.labels(channel).inc(8)
        self.backlog.inc(5)


@dataclass
class DispatchWorkerMetrics:
    registry: CollectorRegistry = field(default_factory=new_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.sent = Counter("dispatch_messages_sent_total", "Messages sent", ["channel"], registry=r)
        self.failed = Counter("dispatch_messages_failed_total", "Messages failed for good", ["channel"], registry=r)
        self.retried = Counter(
            "dispatch_messages_retried_total", "Attempts sent to a retry tier", ["channel"], registry=r
        )
        self.dead_lettered = Counter(
            "dispatch_messages_dead_lettered_total", "Jobs sent to the DLQ", ["reason"], registry=r
        )
        self.send_duration = Histogram(
            "dispatch_send_duration_seconds", "Sender call duration", ["channel"], registry=r
        )
        self.queue_depth = Gauge("dispatch_queue_depth_messages", "Messages ready in a queue", ["queue"], registry=r)
        self.batch_size = Histogram(
            "dispatch_batch_size", "Jobs per micro-batch", buckets=(1, 8, 16, 32, 64, 128), registry=r
        )

    def tick(self, n: int) -> None:
        """One slice of dispatch: 20% final failures, a growing DLQ, a work queue that only grows."""
        for channel in CHANNELS:
            self.sent.labels(channel).inc(4)
            self.failed.labels(channel).inc()
            self.retried.labels(channel).inc(2)
            self.send_duration.labels(channel).observe(0.05)
        self.dead_lettered.labels("exhausted").inc()
        self.dead_lettered.labels("poison").inc()
        self.queue_depth.labels(QUEUE_PREFIX).inc(3)
        for tier in (1, 2, 3):
            self.queue_depth.labels(f"{QUEUE_PREFIX}.retry.{tier}").set(n % 7 + tier)
        self.queue_depth.labels(f"{QUEUE_PREFIX}.dlq").inc(2)
        self.batch_size.observe(32)


@dataclass
class TemplateSvcMetrics:
    registry: CollectorRegistry = field(default_factory=new_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.handled = Counter(
            "grpc_server_handled_total", "gRPC calls completed", ["grpc_method", "grpc_code"], registry=r
        )
        self.handling = Histogram("grpc_server_handling_seconds", "gRPC call duration", ["grpc_method"], registry=r)
        self.renders = Counter("template_renders_total", "Messages rendered", ["strategy", "channel"], registry=r)

    def tick(self, n: int) -> None:
        """One slice of gRPC traffic: one call in ten ends INTERNAL."""
        for method in GRPC_METHODS:
            self.handled.labels(method, "OK").inc(9)
            self.handled.labels(method, "INTERNAL").inc()
            self.handling.labels(method).observe(0.004)
        for channel in CHANNELS:
            self.renders.labels("template", channel).inc(5)


@dataclass
class SchedulerMetrics:
    registry: CollectorRegistry = field(default_factory=new_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.lag = Histogram(
            "scheduler_dispatch_lag_seconds", "now - scheduled_at at dispatch", buckets=LAG_BUCKETS, registry=r
        )
        self.dispatched = Counter("scheduler_campaigns_dispatched_total", "Scheduled campaigns dispatched", registry=r)
        self.errors = Counter("scheduler_errors_total", "Scheduler errors", ["kind"], registry=r)
        self.last_tick = Gauge("scheduler_last_tick_timestamp_seconds", "When the last tick finished", registry=r)

    def tick(self, n: int) -> None:
        """One slice of scheduling: campaigns start 100 s late and the last tick is five minutes old."""
        self.lag.observe(100.0)
        self.dispatched.inc()
        self.errors.labels("api_unavailable").inc()
        self.last_tick.set(time.time() - 300)


@dataclass(frozen=True, slots=True)
class Exporter:
    job: str
    address: str


@contextmanager
def serve_catalogue() -> Iterator[list[Exporter]]:
    """Serve each job's catalogue on its own localhost port while a workload thread keeps it moving."""
    services: dict[str, Workload] = {
        "campaign-api": CampaignApiMetrics(),
        "dispatch-worker": DispatchWorkerMetrics(),
        "template-svc": TemplateSvcMetrics(),
        "scheduler": SchedulerMetrics(),
    }
    stop = threading.Event()

    def tick_all(n: int) -> None:
        for service in services.values():
            service.tick(n)

    def work() -> None:
        n = 1
        while not stop.wait(TICK_S):
            tick_all(n)
            n += 1

    tick_all(0)  # one slice before the first scrape, so every labelled series exists from the start
    servers = [(job, start_http_server(0, addr="127.0.0.1", registry=s.registry)) for job, s in services.items()]
    worker = threading.Thread(target=work, name="catalogue-workload", daemon=True)
    worker.start()
    try:
        yield [Exporter(job, f"127.0.0.1:{server.server_port}") for job, (server, _thread) in servers]
    finally:
        stop.set()
        worker.join(timeout=5)
        for _job, (server, thread) in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

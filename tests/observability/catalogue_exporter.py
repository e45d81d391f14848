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

from prometheus_client import GC_COLLECTOR, CollectorRegistry, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from service_kit import metric_catalogue as catalogue

# Every name each service exposes besides the default collectors: the contract the dashboard and alerts use,
# read from the catalogue the services build their metrics from
CATALOGUE: Final[Mapping[str, tuple[str, ...]]] = {
    service: tuple(spec.name for spec in specs) for service, specs in catalogue.BY_SERVICE.items()
}
CHANNELS: Final = ("sms", "whatsapp")
PROVIDERS: Final = ("kannel", "aggregator", "whatsapp")
QUEUE_PREFIX: Final = "campaign_sends"
ROUTES: Final = ("/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/send")
GRPC_METHODS: Final = ("RenderBatch", "Render", "Validate")
TICK_S: Final = 0.1


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
        self.request_duration = catalogue.HTTP_REQUEST_DURATION.histogram(r)
        self.created = catalogue.CAMPAIGNS_CREATED.counter(r)
        self.dispatched = catalogue.CAMPAIGNS_DISPATCHED.counter(r)
        self.backlog = catalogue.OUTBOX_BACKLOG.gauge(r)
        self.published = catalogue.MESSAGES_PUBLISHED.counter(r)
        # real channels: receipts whose delivery rate has fallen to a third, so the delivery-rate alert fires
        self.receipts = catalogue.DELIVERY_RECEIPTS.counter(r)
        self.unmatched = catalogue.DELIVERY_RECEIPTS_UNMATCHED.counter(r)
        self.receipt_latency = catalogue.DELIVERY_RECEIPT_LATENCY.histogram(r)
        self.rejected = catalogue.PROVIDER_CALLBACKS_REJECTED.counter(r)
        self.inbound = catalogue.INBOUND_MESSAGES.counter(r)
        # the relay's backpressure (issue 17)
        self.work_queue_ready = catalogue.RELAY_WORK_QUEUE_READY.gauge(r)
        self.held_back = catalogue.RELAY_HELD_BACK.counter(r)

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
        self.published.inc(16)
        self.backlog.inc(5)
        for provider in ("kannel", "aggregator", "whatsapp"):
            self.receipts.labels(provider, "delivered", "applied").inc(1)
            self.receipts.labels(provider, "undelivered", "applied").inc(2)
            self.receipts.labels(provider, "intermediate", "unchanged").inc(1)
            self.receipts.labels(provider, "delivered", "duplicate").inc(1)
            self.unmatched.labels(provider).inc()
            self.receipt_latency.labels(provider, "delivered").observe(4.0 + n % 30)
            self.rejected.labels(provider, "unknown_token").inc()
            self.inbound.labels(provider, "stored").inc()
        self.work_queue_ready.set(20_000)
        self.held_back.inc()


@dataclass
class DispatchWorkerMetrics:
    registry: CollectorRegistry = field(default_factory=new_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.sent = catalogue.MESSAGES_SENT.counter(r)
        self.failed = catalogue.MESSAGES_FAILED.counter(r)
        self.retried = catalogue.MESSAGES_RETRIED.counter(r)
        self.dead_lettered = catalogue.MESSAGES_DEAD_LETTERED.counter(r)
        self.send_duration = catalogue.SEND_DURATION.histogram(r)
        self.queue_depth = catalogue.QUEUE_DEPTH.gauge(r)
        self.batch_size = catalogue.BATCH_SIZE.histogram(r)
        self.provider_send_duration = catalogue.PROVIDER_SEND_DURATION.histogram(r)
        self.provider_throttles = catalogue.PROVIDER_THROTTLES.counter(r)
        self.compliance_decisions = catalogue.COMPLIANCE_DECISIONS.counter(r)
        self.compliance_deferral = catalogue.COMPLIANCE_DEFERRAL.histogram(r)

    def tick(self, n: int) -> None:
        """One slice of dispatch: 20% final failures, a growing DLQ, a work queue that only grows."""
        for provider in PROVIDERS:
            self.provider_send_duration.labels(provider).observe(0.08)
            self.provider_throttles.labels(provider).inc()
        for channel in CHANNELS:
            self.sent.labels(channel).inc(4)
            self.failed.labels(channel).inc()
            self.retried.labels(channel).inc(2)
            self.send_duration.labels(channel).observe(0.05)
            # the gate: most messages go, some wait for their windows (overnight), a few opted out or expired
            self.compliance_decisions.labels("allowed", channel, "promotional").inc(6)
            self.compliance_decisions.labels("allowed", channel, "transactional").inc(2)
            self.compliance_decisions.labels("deferred_window", channel, "promotional").inc(2)
            self.compliance_decisions.labels("suppressed", channel, "promotional").inc()
            self.compliance_decisions.labels("expired", channel, "promotional").inc()
            self.compliance_deferral.labels(channel).observe(14 * 3600.0)
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
        self.handled = catalogue.GRPC_HANDLED.counter(r)
        self.handling = catalogue.GRPC_HANDLING.histogram(r)
        self.renders = catalogue.TEMPLATE_RENDERS.counter(r)

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
        self.lag = catalogue.SCHEDULER_LAG.histogram(r)
        self.dispatched = catalogue.SCHEDULER_DISPATCHED.counter(r)
        self.errors = catalogue.SCHEDULER_ERRORS.counter(r)
        self.last_tick = catalogue.SCHEDULER_LAST_TICK.gauge(r)

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

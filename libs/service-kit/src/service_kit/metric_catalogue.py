"""The platform's metric catalogue: every series each service exports, named once.

Services build their metrics from these specs; the observability tests read the same specs to check the
dashboard, the alert rules and a live scrape. Counters end in ``_total``; labels are small, fixed sets (no ids,
no phones). ``service`` names the scrape job that exports the series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Kind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One series: its exposed name, kind, help text, label names and (histograms) buckets."""

    service: str
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind is Kind.COUNTER) != self.name.endswith("_total"):
            raise ValueError(f"{self.name}: counters, and only counters, end in _total")

    def counter(self, registry: CollectorRegistry) -> Counter:
        """Register this counter on `registry`."""
        assert self.kind is Kind.COUNTER
        return Counter(self.name, self.help, self.labels, registry=registry)

    def gauge(self, registry: CollectorRegistry) -> Gauge:
        """Register this gauge on `registry`."""
        assert self.kind is Kind.GAUGE
        return Gauge(self.name, self.help, self.labels, registry=registry)

    def histogram(self, registry: CollectorRegistry) -> Histogram:
        """Register this histogram on `registry`."""
        assert self.kind is Kind.HISTOGRAM
        return Histogram(self.name, self.help, self.labels, buckets=self.buckets, registry=registry)


API, WORKER, TEMPLATE, SCHEDULER = "campaign-api", "dispatch-worker", "template-svc", "scheduler"
# request latencies from a millisecond to ten seconds: a 100k-id send takes seconds, a read milliseconds
HTTP_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# rendering is microseconds, a batch of thousands a few milliseconds: buckets start well below the defaults
GRPC_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SEND_BUCKETS: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# seconds late; on time is under a few seconds, catch-up after downtime can be hours
LAG_BUCKETS: Final = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 4 * 3600.0)

HTTP_REQUEST_DURATION: Final = MetricSpec(
    API,
    "http_server_request_duration_seconds",
    Kind.HISTOGRAM,
    "HTTP request duration by route template, method and status code",
    ("route", "method", "status_code"),
    HTTP_BUCKETS,
)
CAMPAIGNS_CREATED: Final = MetricSpec(API, "campaigns_created_total", Kind.COUNTER, "Campaigns created", ("channel",))
CAMPAIGNS_DISPATCHED: Final = MetricSpec(
    API,
    "campaigns_dispatched_total",
    Kind.COUNTER,
    "Campaigns moved to sending by a send (replayed answers are not counted)",
    ("channel",),
)
OUTBOX_BACKLOG: Final = MetricSpec(
    API, "outbox_backlog_messages", Kind.GAUGE, "Outbound messages not yet published (published_at IS NULL)"
)
MESSAGES_PUBLISHED: Final = MetricSpec(
    API,
    "dispatch_messages_published_total",
    Kind.COUNTER,
    "Messages published to RabbitMQ by the outbox relay (up to RELAY_JOB_SIZE to a job), counted after the broker "
    "confirmed them",
)
MESSAGES_SENT: Final = MetricSpec(
    WORKER, "dispatch_messages_sent_total", Kind.COUNTER, "Messages delivered", ("channel",)
)
MESSAGES_FAILED: Final = MetricSpec(
    WORKER, "dispatch_messages_failed_total", Kind.COUNTER, "Messages failed for good (retries exhausted)", ("channel",)
)
MESSAGES_RETRIED: Final = MetricSpec(
    WORKER, "dispatch_messages_retried_total", Kind.COUNTER, "Failed attempts sent to a retry tier", ("channel",)
)
MESSAGES_DEAD_LETTERED: Final = MetricSpec(
    WORKER, "dispatch_messages_dead_lettered_total", Kind.COUNTER, "Jobs published to the DLQ", ("reason",)
)
SEND_DURATION: Final = MetricSpec(
    WORKER, "dispatch_send_duration_seconds", Kind.HISTOGRAM, "Duration of one sender call", ("channel",), SEND_BUCKETS
)
QUEUE_DEPTH: Final = MetricSpec(
    WORKER, "dispatch_queue_depth_messages", Kind.GAUGE, "Ready messages per queue of the topology", ("queue",)
)
BATCH_SIZE: Final = MetricSpec(
    WORKER, "dispatch_batch_size", Kind.HISTOGRAM, "Jobs per micro-batch", buckets=BATCH_BUCKETS
)
# ---- per provider (issue 14): the adapter that sent, a fixed set (mock, kannel, aggregator, whatsapp)
PROVIDER_SEND_DURATION: Final = MetricSpec(
    WORKER,
    "dispatch_provider_send_duration_seconds",
    Kind.HISTOGRAM,
    "Duration of one provider call, by provider",
    ("provider",),
    SEND_BUCKETS,
)
PROVIDER_THROTTLES: Final = MetricSpec(
    WORKER,
    "dispatch_provider_throttles_total",
    Kind.COUNTER,
    "Sends the provider answered with slow down (throttled), by provider",
    ("provider",),
)
# ---- the compliance gate (issue 15): what it decided for each claimed message, right before the attempt
# seconds a message deferred for its send windows waits: minutes for a window about to open, up to a night and a day
DEFERRAL_BUCKETS: Final = (
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    2 * 3600.0,
    4 * 3600.0,
    8 * 3600.0,
    12 * 3600.0,
    16 * 3600.0,
    24 * 3600.0,
    48 * 3600.0,
)
COMPLIANCE_DECISIONS: Final = MetricSpec(
    WORKER,
    "dispatch_compliance_decisions_total",
    Kind.COUNTER,
    "Claimed messages by the compliance gate's decision (allowed, suppressed, expired, deferred_window), channel and"
    " category (promotional, transactional)",
    ("decision", "channel", "category"),
)
COMPLIANCE_DEFERRAL: Final = MetricSpec(
    WORKER,
    "dispatch_compliance_deferral_seconds",
    Kind.HISTOGRAM,
    "How long a message the gate deferred waits for its send windows (the account's and its sender's) to open",
    ("channel",),
    DEFERRAL_BUCKETS,
)
GRPC_HANDLED: Final = MetricSpec(
    TEMPLATE,
    "grpc_server_handled_total",
    Kind.COUNTER,
    "gRPC calls completed by the server, by method and status code",
    ("grpc_method", "grpc_code"),
)
GRPC_HANDLING: Final = MetricSpec(
    TEMPLATE,
    "grpc_server_handling_seconds",
    Kind.HISTOGRAM,
    "Time the server took to handle a gRPC call",
    ("grpc_method",),
    GRPC_BUCKETS,
)
TEMPLATE_RENDERS: Final = MetricSpec(
    TEMPLATE,
    "template_renders_total",
    Kind.COUNTER,
    "Messages rendered, by the strategy that wrote them and the channel",
    ("strategy", "channel"),
)
SCHEDULER_LAG: Final = MetricSpec(
    SCHEDULER,
    "scheduler_dispatch_lag_seconds",
    Kind.HISTOGRAM,
    "Time from a campaign's scheduled_at to the scheduler dispatching it",
    buckets=LAG_BUCKETS,
)
SCHEDULER_DISPATCHED: Final = MetricSpec(
    SCHEDULER,
    "scheduler_campaigns_dispatched_total",
    Kind.COUNTER,
    "Scheduled campaigns this scheduler moved to sending",
)
SCHEDULER_ERRORS: Final = MetricSpec(
    SCHEDULER,
    "scheduler_errors_total",
    Kind.COUNTER,
    "Failures in scheduler ticks, by kind; failed sends are retried on the next tick",
    ("kind",),
)
SCHEDULER_LAST_TICK: Final = MetricSpec(
    SCHEDULER,
    "scheduler_last_tick_timestamp_seconds",
    Kind.GAUGE,
    "Unix time of the last tick in which campaign-api answered the due listing",
)

# --- real channels, campaign-api's side: delivery receipts and inbound messages from the providers' callbacks ---
# accepted by the provider → delivered: seconds for an SMS to a phone that is on, hours for one that is off
RECEIPT_BUCKETS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
DELIVERY_RECEIPTS: Final = MetricSpec(
    API,
    "delivery_receipts_total",
    Kind.COUNTER,
    "Delivery receipts by provider, mapped status (delivered, undelivered, read, intermediate) and outcome"
    " (applied, unchanged, waiting for its message, duplicate)",
    ("provider", "status", "outcome"),
)
DELIVERY_RECEIPTS_UNMATCHED: Final = MetricSpec(
    API,
    "delivery_receipts_unmatched_total",
    Kind.COUNTER,
    "Receipts for no message known yet (an early receipt or an unknown id): stored, applied if the message appears",
    ("provider",),
)
DELIVERY_RECEIPT_LATENCY: Final = MetricSpec(
    API,
    "delivery_receipt_latency_seconds",
    Kind.HISTOGRAM,
    "From accepted by the provider (sent_at) to the final receipt's time, by provider and mapped status",
    ("provider", "status"),
    RECEIPT_BUCKETS,
)
PROVIDER_CALLBACKS_REJECTED: Final = MetricSpec(
    API,
    "provider_callbacks_rejected_total",
    Kind.COUNTER,
    "Provider callbacks refused: unknown callback token, bad signature, or fields that are not a receipt",
    ("provider", "reason"),
)
INBOUND_MESSAGES: Final = MetricSpec(
    API,
    "inbound_messages_total",
    Kind.COUNTER,
    "Inbound messages (MO) from providers by outcome (stored, duplicate, ignored: not a text)",
    ("provider", "outcome"),
)
# --- end of real channels, campaign-api's side ---
# --- issue 17: the relay's backpressure -------------------------------------------------------------------------
RELAY_WORK_QUEUE_READY: Final = MetricSpec(
    API,
    "relay_work_queue_ready_jobs",
    Kind.GAUGE,
    "Messages in the work queue's ready jobs (each counted as RELAY_JOB_SIZE) as the outbox relay last saw them "
    "(it publishes only below its high-water mark)",
)
RELAY_HELD_BACK: Final = MetricSpec(
    API,
    "relay_held_back_total",
    Kind.COUNTER,
    "Times the outbox relay waited because the work queue's ready backlog had reached the high-water mark",
)

ALL: Final = tuple(spec for spec in list(globals().values()) if isinstance(spec, MetricSpec))
BY_SERVICE: Final[Mapping[str, tuple[MetricSpec, ...]]] = {
    service: tuple(spec for spec in ALL if spec.service == service) for service in (API, WORKER, TEMPLATE, SCHEDULER)
}

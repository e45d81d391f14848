"""The worker's Prometheus metrics, named as in the platform's metric catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """Counters, histograms and gauges of the dispatch worker."""

    sent: Counter
    failed: Counter
    retried: Counter
    dead_lettered: Counter
    send_duration: Histogram
    queue_depth: Gauge
    batch_size: Histogram

    @classmethod
    def register(cls, registry: CollectorRegistry) -> WorkerMetrics:
        """Create every metric in `registry` (tests pass a private one)."""
        return cls(
            sent=Counter("dispatch_messages_sent", "Messages delivered", ["channel"], registry=registry),
            failed=Counter(
                "dispatch_messages_failed",
                "Messages failed for good (retries exhausted)",
                ["channel"],
                registry=registry,
            ),
            retried=Counter(
                "dispatch_messages_retried", "Failed attempts sent to a retry tier", ["channel"], registry=registry
            ),
            dead_lettered=Counter(
                "dispatch_messages_dead_lettered", "Jobs published to the DLQ", ["reason"], registry=registry
            ),
            send_duration=Histogram(
                "dispatch_send_duration_seconds",
                "Duration of one sender call",
                ["channel"],
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
                registry=registry,
            ),
            queue_depth=Gauge(
                "dispatch_queue_depth_messages",
                "Ready messages per queue of the topology",
                ["queue"],
                registry=registry,
            ),
            batch_size=Histogram(
                "dispatch_batch_size",
                "Jobs per micro-batch",
                buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
                registry=registry,
            ),
        )

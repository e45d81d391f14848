"""campaign-api's Prometheus metrics, registered on a registry the composition root chooses."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# request latencies from a millisecond to ten seconds: a 100k-id send takes seconds, a read milliseconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class ApiMetrics:
    """The catalogue's campaign-api series (the relay registers its own on the same registry)."""

    registry: CollectorRegistry
    request_duration: Histogram
    campaigns_created: Counter
    campaigns_dispatched: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> ApiMetrics:
        """Create the series on the registry."""
        return cls(
            registry=registry,
            request_duration=Histogram(
                "http_server_request_duration_seconds",
                "HTTP request duration by route template, method and status code",
                ["route", "method", "status_code"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            campaigns_created=Counter("campaigns_created_total", "Campaigns created", ["channel"], registry=registry),
            campaigns_dispatched=Counter(
                "campaigns_dispatched_total",
                "Campaigns moved to sending by a send (replayed answers are not counted)",
                ["channel"],
                registry=registry,
            ),
        )

"""The relay's Prometheus metrics, named as in the platform's metric catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass(frozen=True, slots=True)
class RelayMetrics:
    """Jobs published (after the broker's confirm) and rows still waiting."""

    published: Counter
    backlog: Gauge

    @classmethod
    def register(cls, registry: CollectorRegistry) -> RelayMetrics:
        """Create the metrics in `registry` (tests pass a private one)."""
        return cls(
            published=Counter(
                "dispatch_messages_published",
                "Jobs published to RabbitMQ by the outbox relay, counted after the broker confirmed them",
                ["channel"],
                registry=registry,
            ),
            backlog=Gauge(
                "outbox_backlog_messages",
                "Outbound messages not yet published (published_at IS NULL)",
                registry=registry,
            ),
        )

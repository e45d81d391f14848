"""The template service's Prometheus metrics (names from the platform's metric catalogue)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# rendering is microseconds, a batch of thousands a few milliseconds: buckets start well below the defaults
HANDLING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True, slots=True)
class TemplateMetrics:
    """Every metric the service exports, registered once on the registry main.py chooses."""

    handled: Counter
    handling_seconds: Histogram
    renders: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> TemplateMetrics:
        """Create the metrics on `registry` (the process registry in production, a fresh one in tests)."""
        return cls(
            handled=Counter(
                "grpc_server_handled_total",
                "gRPC calls completed by the server, by method and status code",
                ["grpc_method", "grpc_code"],
                registry=registry,
            ),
            handling_seconds=Histogram(
                "grpc_server_handling_seconds",
                "Time the server took to handle a gRPC call",
                ["grpc_method"],
                buckets=HANDLING_BUCKETS,
                registry=registry,
            ),
            renders=Counter(
                "template_renders_total",
                "Messages rendered, by the strategy that wrote them and the channel",
                ["strategy", "channel"],
                registry=registry,
            ),
        )

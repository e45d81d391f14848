"""The template service's Prometheus metrics (built from the platform's metric catalogue)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from service_kit import metric_catalogue as catalogue


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
            handled=catalogue.GRPC_HANDLED.counter(registry),
            handling_seconds=catalogue.GRPC_HANDLING.histogram(registry),
            renders=catalogue.TEMPLATE_RENDERS.counter(registry),
        )

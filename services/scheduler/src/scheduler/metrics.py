"""The scheduler's Prometheus metrics, fed from each tick's report."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from service_kit import metric_catalogue as catalogue

from scheduler.domain import ErrorKind, TickReport


@dataclass(frozen=True, slots=True)
class PrometheusTickRecorder:
    """Counts dispatches, lag and errors; built once per registry."""

    lag: Histogram
    dispatched: Counter
    errors: Counter
    last_tick: Gauge

    @classmethod
    def register(cls, registry: CollectorRegistry = REGISTRY) -> PrometheusTickRecorder:
        """Create the scheduler's metrics in the registry."""
        errors = catalogue.SCHEDULER_ERRORS.counter(registry)
        for kind in ErrorKind:  # every series exists from the start, so rate() sees the first error
            errors.labels(kind=kind)
        return cls(
            lag=catalogue.SCHEDULER_LAG.histogram(registry),
            dispatched=catalogue.SCHEDULER_DISPATCHED.counter(registry),
            errors=errors,
            last_tick=catalogue.SCHEDULER_LAST_TICK.gauge(registry),
        )

    def record(self, report: TickReport) -> None:
        """Count what the tick did."""
        for dispatch in report.dispatched:
            self.lag.observe(dispatch.lag_s)
        self.dispatched.inc(len(report.dispatched))
        for failure in report.failures:
            self.errors.labels(kind=failure.kind).inc()
        for _ in report.audience_required:
            self.errors.labels(kind=ErrorKind.AUDIENCE_REQUIRED).inc()
        for _ in report.rejected:
            self.errors.labels(kind=ErrorKind.REJECTED).inc()
        if report.listing_answered:
            self.last_tick.set(report.finished_at.timestamp())

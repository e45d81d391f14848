"""The scheduler's Prometheus metrics, fed from each tick's report."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from scheduler.domain import ErrorKind, TickReport

# seconds late; on time is under a few seconds, catch-up after downtime can be hours
LAG_BUCKETS_S = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 4 * 3600.0)


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
        errors = Counter(
            "scheduler_errors_total",
            "Failures in scheduler ticks, by kind; failed sends are retried on the next tick",
            ["kind"],
            registry=registry,
        )
        for kind in ErrorKind:  # every series exists from the start, so rate() sees the first error
            errors.labels(kind=kind)
        return cls(
            lag=Histogram(
                "scheduler_dispatch_lag_seconds",
                "Time from a campaign's scheduled_at to the scheduler dispatching it",
                buckets=LAG_BUCKETS_S,
                registry=registry,
            ),
            dispatched=Counter(
                "scheduler_campaigns_dispatched",
                "Scheduled campaigns this scheduler moved to sending",
                registry=registry,
            ),
            errors=errors,
            last_tick=Gauge(
                "scheduler_last_tick_timestamp_seconds",
                "Unix time of the last tick in which campaign-api answered the due listing",
                registry=registry,
            ),
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
        if report.listing_answered:
            self.last_tick.set(report.finished_at.timestamp())

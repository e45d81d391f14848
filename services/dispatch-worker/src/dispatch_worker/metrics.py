"""The worker's Prometheus metrics, built from the platform's metric catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TypeVar

from dispatch.lifecycle import Category, Channel
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from service_kit import metric_catalogue as catalogue

from dispatch_worker.domain import GateVerdict

# the provider adapters (senders_provider_check): their series exist from the start, at zero
PROVIDERS: Final = ("mock", "kannel", "aggregator", "whatsapp")

M = TypeVar("M", bound=MetricWrapperBase)


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
    provider_send_duration: Histogram
    provider_throttles: Counter
    compliance_decisions: Counter
    compliance_deferral: Histogram
    # labelled children by (metric, label value): labels() validates and locks on every call, once per message
    _children: dict[tuple[int, str], MetricWrapperBase] = field(default_factory=dict, compare=False, repr=False)

    def child(self, metric: M, label: str) -> M:
        """`metric.labels(label)`, looked up once per label value."""
        key = (id(metric), label)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(label)
        return found  # type: ignore[return-value]  # stored by the same metric's labels()

    @classmethod
    def register(cls, registry: CollectorRegistry) -> WorkerMetrics:
        """Create every metric in `registry` (tests pass a private one)."""
        metrics = cls(
            sent=catalogue.MESSAGES_SENT.counter(registry),
            failed=catalogue.MESSAGES_FAILED.counter(registry),
            retried=catalogue.MESSAGES_RETRIED.counter(registry),
            dead_lettered=catalogue.MESSAGES_DEAD_LETTERED.counter(registry),
            send_duration=catalogue.SEND_DURATION.histogram(registry),
            queue_depth=catalogue.QUEUE_DEPTH.gauge(registry),
            batch_size=catalogue.BATCH_SIZE.histogram(registry),
            provider_send_duration=catalogue.PROVIDER_SEND_DURATION.histogram(registry),
            provider_throttles=catalogue.PROVIDER_THROTTLES.counter(registry),
            compliance_decisions=catalogue.COMPLIANCE_DECISIONS.counter(registry),
            compliance_deferral=catalogue.COMPLIANCE_DEFERRAL.histogram(registry),
        )
        for provider in PROVIDERS:
            metrics.provider_send_duration.labels(provider)
            metrics.provider_throttles.labels(provider)
        # every decision's series from the start, at zero (16 in all: small fixed sets, no ids)
        for channel in Channel:
            metrics.compliance_deferral.labels(channel)
            for verdict in GateVerdict:
                for category in Category:
                    metrics.compliance_decisions.labels(verdict, channel, category)
        return metrics

"""campaign-api's Prometheus metrics, built from the platform's metric catalogue on a registry main.py chooses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram
from service_kit import metric_catalogue as catalogue

# the providers that call back (the mock sends no receipts)
CALLBACK_PROVIDERS: Final = ("kannel", "aggregator", "whatsapp")


@dataclass(frozen=True, slots=True)
class ApiMetrics:
    """The catalogue's campaign-api series (the relay registers its own on the same registry)."""

    registry: CollectorRegistry
    request_duration: Histogram
    campaigns_created: Counter
    campaigns_dispatched: Counter
    delivery_receipts: Counter
    delivery_receipts_unmatched: Counter
    delivery_receipt_latency: Histogram
    callbacks_rejected: Counter
    inbound_messages: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> ApiMetrics:
        """Create the series on the registry."""
        metrics = cls(
            registry=registry,
            request_duration=catalogue.HTTP_REQUEST_DURATION.histogram(registry),
            campaigns_created=catalogue.CAMPAIGNS_CREATED.counter(registry),
            campaigns_dispatched=catalogue.CAMPAIGNS_DISPATCHED.counter(registry),
            delivery_receipts=catalogue.DELIVERY_RECEIPTS.counter(registry),
            delivery_receipts_unmatched=catalogue.DELIVERY_RECEIPTS_UNMATCHED.counter(registry),
            delivery_receipt_latency=catalogue.DELIVERY_RECEIPT_LATENCY.histogram(registry),
            callbacks_rejected=catalogue.PROVIDER_CALLBACKS_REJECTED.counter(registry),
            inbound_messages=catalogue.INBOUND_MESSAGES.counter(registry),
        )
        metrics.start_callback_series()
        return metrics

    def start_callback_series(self) -> None:
        """Every provider callback series at zero, so rates and the delivery-rate alert exist before the first
        receipt (the label sets are small and fixed)."""
        for provider in CALLBACK_PROVIDERS:
            self.delivery_receipts_unmatched.labels(provider)
            for status in ("delivered", "undelivered", "read", "intermediate"):
                for outcome in ("applied", "unchanged", "waiting", "duplicate"):
                    self.delivery_receipts.labels(provider, status, outcome)
            for status in ("delivered", "undelivered", "read"):
                self.delivery_receipt_latency.labels(provider, status)
            for reason in ("unknown_token", "unsigned", "bad_signature", "unreadable"):
                self.callbacks_rejected.labels(provider, reason)
            for outcome in ("stored", "duplicate", "ignored"):
                self.inbound_messages.labels(provider, outcome)

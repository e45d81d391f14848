"""W3C trace context (traceparent/tracestate) carried in AMQP headers."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate
from opentelemetry.context import Context


def inject_trace_headers(headers: dict[str, str], context: Context | None = None) -> dict[str, str]:
    """Write the current (or given) trace context into `headers`; return them."""
    propagate.inject(headers, context=context)
    return headers


def extract_trace_context(headers: Mapping[str, object] | None) -> Context:
    """Read the trace context a job carries, so the consumer's spans join the producer's trace."""
    carrier = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (headers or {}).items()}
    return propagate.extract(carrier)

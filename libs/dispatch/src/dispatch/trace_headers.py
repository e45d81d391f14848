"""W3C trace context (traceparent/tracestate) carried in AMQP headers."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate
from opentelemetry.context import Context


def extract_trace_context(headers: Mapping[str, object] | None) -> Context:
    """Read the trace context a job carries, so the consumer's spans join the producer's trace."""
    if not headers:
        return Context()  # what the propagator answers for an empty carrier, without asking it once per job
    carrier = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (headers or {}).items()}
    return propagate.extract(carrier)

"""An in-process OTLP/gRPC trace receiver: the services export their spans here during the e2e test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from grpc import aio
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

SPAN_KIND_NAMES = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """One exported span, flattened: ids as lowercase hex like the logs print them."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...]  # (trace_id, span_id) of each link

    def describe(self) -> str:
        """One line for assertion messages."""
        return f"{self.service}: {self.kind} {self.name!r} span={self.span_id} parent={self.parent_span_id}"


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


@dataclass
class SpanStore:
    """Every span received so far, in arrival order."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        """Flatten an export request into ReceivedSpans."""
        for resource_spans in request.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
            service = str(resource.get("service.name", "?"))
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=service,
                            name=span.name,
                            kind=SPAN_KIND_NAMES.get(span.kind, str(span.kind)),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex() or None,
                            attributes={kv.key: _value(kv.value) for kv in span.attributes},
                            links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                        )
                    )
        self.arrived.set()

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans of one trace."""
        return [s for s in self.spans if s.trace_id == trace_id]

    async def wait_for(
        self, predicate: Callable[[Sequence[ReceivedSpan]], bool], timeout_s: float
    ) -> list[ReceivedSpan]:
        """Wait until `predicate(spans)` holds; return the spans then (or raise TimeoutError)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not predicate(self.spans):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"spans did not arrive within {timeout_s}s ({len(self.spans)} received)")
            self.arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout=min(remaining, 0.2))
        return list(self.spans)


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: SpanStore) -> None:
        self.store = store

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: aio.ServicerContext[Any, Any]
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.store.add(request)
        return trace_service_pb2.ExportTraceServiceResponse()


@dataclass(frozen=True, slots=True)
class RunningReceiver:
    endpoint: str  # what OTEL_EXPORTER_OTLP_ENDPOINT is set to
    store: SpanStore


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[RunningReceiver]:
    """Serve opentelemetry.proto.collector.trace.v1.TraceService on a free localhost port."""
    store = SpanStore()
    server = aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(store), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield RunningReceiver(endpoint=f"http://127.0.0.1:{port}", store=store)
    finally:
        await server.stop(grace=None)

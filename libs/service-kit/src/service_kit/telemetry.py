"""OpenTelemetry tracing set up the same way in every service."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from service_kit.settings import ServiceSettings


def configure_tracing(settings: ServiceSettings, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install a tracer provider naming this service; export over OTLP when an endpoint is configured.

    The standard OTEL_* variables (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, ...) are honoured by
    the SDK itself. Tests pass an in-memory exporter instead. With no exporter nothing is recorded: recording spans
    nobody collects cost the worker a fifth of its CPU. Trace and span ids are still made and propagated (logs, the
    outbox's stored traceparent, AMQP headers), so log lines of one send still share a trace id.
    """
    resource = Resource.create(
        {
            "service.name": settings.service_name,
            "service.version": settings.service_version,
            "deployment.environment": settings.deployment_environment,
        }
    )
    if exporter is None and settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
    # None: the SDK's sampler from OTEL_TRACES_SAMPLER (parent-based, always on, by default)
    provider = TracerProvider(resource=resource, sampler=None if exporter is not None else ParentBased(ALWAYS_OFF))
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider

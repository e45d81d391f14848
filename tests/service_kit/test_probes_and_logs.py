"""The shared probe server and JSON logs, as every service presents them."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from service_kit.json_logs import configure_logging
from service_kit.probe_server import serve_probes
from service_kit.settings import ServiceSettings
from service_kit.telemetry import configure_tracing


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionRefusedError("nothing listens")


async def _hangs() -> None:
    await asyncio.sleep(60)


async def test_ready_reports_each_dependency_and_answers_503_when_one_is_down() -> None:
    checks = {"database": _ok, "broker": _down, "template-svc": _hangs}
    async with serve_probes("127.0.0.1", 0, checks) as port, httpx.AsyncClient() as client:
        health = await client.get(f"http://127.0.0.1:{port}/health")
        ready = await client.get(f"http://127.0.0.1:{port}/ready", timeout=10)
        metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert health.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down: ConnectionRefusedError")
    assert body["checks"]["template-svc"].startswith("down: TimeoutError")
    assert "process_cpu_seconds_total" in metrics.text


async def test_ready_answers_200_when_every_dependency_answers() -> None:
    async with serve_probes("127.0.0.1", 0, {"database": _ok}) as port, httpx.AsyncClient() as client:
        ready = await client.get(f"http://127.0.0.1:{port}/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_log_lines_are_json_with_service_and_the_active_trace(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("campaign-api", "INFO")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("campaign_api.test").info("queued %d messages", 3)
        expected_trace = format(span.get_span_context().trace_id, "032x")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "queued 3 messages"
    assert line["level"] == "INFO"
    assert line["service"] == "campaign-api"
    assert line["trace_id"] == expected_trace
    assert len(line["span_id"]) == 16
    assert "timestamp" in line


def test_tracing_records_only_when_spans_have_somewhere_to_go() -> None:

    settings = ServiceSettings(service_name="dispatch-worker")
    silent = configure_tracing(settings).get_tracer("test")
    with silent.start_as_current_span("batch") as span:
        # nothing is recorded, yet the ids exist, so logs and propagated headers still carry the trace
        assert not span.is_recording()
        assert span.get_span_context().is_valid
    exporter = InMemorySpanExporter()
    provider = configure_tracing(settings, exporter)
    with provider.get_tracer("test").start_as_current_span("batch") as span:
        assert span.is_recording()
    provider.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["batch"]
    assert exporter.get_finished_spans()[0].resource.attributes["service.name"] == "dispatch-worker"

"""The `template-svc` process as deployed: probes on the side port, gRPC, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from grpc import aio
from template.v1 import template_pb2, template_pb2_grpc

START_TIMEOUT_S = 15.0


@pytest.fixture
def service() -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    """Start the console entry point on free ports; yield the process, its gRPC port and its probe port."""
    env = {**os.environ, "GRPC_PORT": "0", "PROBE_PORT": "0", "GRPC_HOST": "127.0.0.1", "PROBE_HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from template_svc.main import cli; cli()"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                pytest.fail(f"template-svc exited with {process.wait()} before serving")
            record = json.loads(line)
            if record["message"] == "template-svc serving":
                yield process, record["grpc_port"], record["probe_port"]
                break
        else:
            pytest.fail("template-svc did not log 'template-svc serving' in time")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


async def test_the_service_serves_probes_and_grpc_and_stops_cleanly_on_sigterm(
    service: tuple[subprocess.Popen[str], int, int],
) -> None:
    process, grpc_port, probe_port = service
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{probe_port}", timeout=5) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        ready = await http.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checks": {"grpc": "ok"}}
        async with aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            reply = await template_pb2_grpc.TemplateServiceStub(channel).Render(
                template_pb2.RenderRequest(
                    template="Hi {first_name}!",
                    customer=template_pb2.Customer(id=1, first_name="Ann"),
                    channel=template_pb2.CHANNEL_SMS,
                ),
                timeout=5,
            )
        assert reply.text == "Hi Ann!"
        metrics = (await http.get("/metrics")).text
    assert 'template_renders_total{channel="sms",strategy="template"} 1.0' in metrics
    assert 'grpc_server_handled_total{grpc_code="OK",grpc_method="/template.v1.TemplateService/Render"} 1.0' in metrics
    assert "process_cpu_seconds_total" in metrics

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    messages = [json.loads(line)["message"] for line in process.stdout.read().splitlines()]
    assert "template-svc stopped" in messages

"""The `scheduler` console script as a process: JSON logs, probes, dispatch, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from scheduler_tests.integration.contract_server import CONTRACT_KEY, ContractCampaignApi

STARTUP_TIMEOUT_S = 20.0


@dataclass
class SchedulerProcess:
    """A running `scheduler` process and the JSON log lines it has written so far."""

    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    async def read_logs(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            text = line.decode()
            self.raw.append(text)
            if text.startswith("{"):
                self.lines.append(json.loads(text))

    async def wait_for_log(self, message: str, timeout_s: float, **fields: object) -> dict[str, Any]:
        """The first log record with this message (and these fields); fail with the process output if none."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            for record in self.lines:
                if record.get("message") == message and all(record.get(k) == v for k, v in fields.items()):
                    return record
            if asyncio.get_running_loop().time() > deadline or self.process.returncode is not None:
                pytest.fail(f"no log {message!r} {fields} within {timeout_s} s; output:\n{''.join(self.raw)[-3000:]}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def scheduler_process(contract_api: tuple[ContractCampaignApi, str]) -> AsyncIterator[SchedulerProcess]:
    """Start the console script against the contract server; kill it if a test left it running."""
    _, base_url = contract_api
    script = Path(sys.executable).with_name("scheduler")
    if not script.exists():
        pytest.fail(f"console script {script} is missing: run `uv sync --all-packages` first")
    env = {
        **os.environ,
        "CAMPAIGN_API_URL": base_url,
        "SCHEDULER_API_KEY": CONTRACT_KEY,
        "PROBE_HOST": "127.0.0.1",
        "PROBE_PORT": "0",
        "POLL_INTERVAL_S": "0.1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
    }
    process = await asyncio.create_subprocess_exec(
        str(script), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    running = SchedulerProcess(process)
    reader = asyncio.create_task(running.read_logs())
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader


async def test_the_process_serves_probes_dispatches_and_stops_cleanly_on_sigterm(
    contract_api: tuple[ContractCampaignApi, str], scheduler_process: SchedulerProcess
) -> None:
    state, _ = contract_api
    started = await scheduler_process.wait_for_log("scheduler started", STARTUP_TIMEOUT_S)
    assert started["service"] == "scheduler"
    probes = f"http://127.0.0.1:{started['probe_port']}"

    campaign_id = state.add("from the process", datetime.now(UTC) - timedelta(seconds=1))
    await scheduler_process.wait_for_log("scheduled campaign dispatched", 5.0, campaign_id=campaign_id)
    assert state.campaigns[campaign_id].dispatches == 1

    async with httpx.AsyncClient(timeout=5) as http:
        health = await http.get(f"{probes}/health")
        ready = await http.get(f"{probes}/ready")
        metrics = (await http.get(f"{probes}/metrics")).text
    assert health.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"campaign-api": "ok"}}
    assert "scheduler_campaigns_dispatched_total 1.0" in metrics
    assert "scheduler_dispatch_lag_seconds_bucket" in metrics
    assert 'scheduler_errors_total{kind="unavailable"} 0.0' in metrics
    assert "scheduler_last_tick_timestamp_seconds" in metrics
    assert "process_cpu_seconds_total" in metrics

    # a slow send is in flight when SIGTERM arrives: it must complete and be logged before the exit
    slow = state.add("slow send", datetime.now(UTC) - timedelta(seconds=1))
    state.slow_send_ids[slow] = 1.0
    state.send_started.clear()
    await asyncio.wait_for(state.send_started.wait(), 5)
    scheduler_process.process.send_signal(signal.SIGTERM)

    assert await asyncio.wait_for(scheduler_process.process.wait(), 10) == 0
    await scheduler_process.wait_for_log("scheduled campaign dispatched", 1.0, campaign_id=slow)
    await scheduler_process.wait_for_log("scheduler stopped", 1.0)

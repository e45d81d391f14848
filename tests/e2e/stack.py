"""The platform as real processes: each service's console script on free localhost ports, logs captured to files."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import httpx
from dispatch.topology import Topology, delete_topology
from promql_live_check import ScrapeTarget, free_port

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service to start: its console script and arguments, the port serving /health /ready /metrics."""

    name: str
    argv: tuple[str, ...]
    probe_port: int
    env: Mapping[str, str]

    @property
    def probe_url(self) -> str:
        """Where /health, /ready and /metrics answer."""
        return f"http://127.0.0.1:{self.probe_port}"


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    stopped: bool = False
    exit_code: int | None = None
    stop_seconds: float | None = None

    def log_lines(self) -> list[str]:
        """Every non-empty line the process printed, stdout then stderr."""
        lines = self.stdout_path.read_text(errors="replace").splitlines()
        lines += self.stderr_path.read_text(errors="replace").splitlines()
        return [line for line in lines if line.strip()]

    def tail(self, chars: int = 3000) -> str:
        """The end of both output streams, for failure messages."""
        return "\n".join(self.log_lines())[-chars:]


@dataclass
class Stack:
    """Every service started for the e2e tests, plus what a test needs to reach them."""

    services: dict[str, RunningService]
    api_url: str
    grpc_address: str
    queue_prefix: str
    retry_delays_s: tuple[float, ...]
    # an all-scopes key of the e2e account, and the scheduler's system key (neither may ever reach a log or a span)
    api_key: str = ""
    system_key: str = ""

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def url(self, service: str) -> str:
        """The HTTP base URL of a service's probe port (campaign-api: its API port)."""
        return self.services[service].spec.probe_url

    def scrape_targets(self) -> list[ScrapeTarget]:
        """The Prometheus targets: one job per service, named as in the metric catalogue."""
        return [ScrapeTarget(name, f"127.0.0.1:{s.spec.probe_port}") for name, s in self.services.items()]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM each service still running, the callers first, and wait for it; return each exit code.

        None stands for "still running after the bound" (it is killed then). Calling it again changes nothing.
        """
        for running in reversed(self.services.values()):
            if running.stopped:
                continue
            running.stopped = True
            if running.process.poll() is not None:  # it exited on its own before we asked
                running.exit_code = running.process.returncode
                continue
            started = time.monotonic()
            running.process.send_signal(signal.SIGTERM)
            try:
                running.exit_code = running.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait(timeout=5)
            running.stop_seconds = time.monotonic() - started
        return {name: s.exit_code for name, s in self.services.items()}

    def kill_leftovers(self) -> None:
        """Kill any process a failed test left running."""
        for running in self.services.values():
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=5)


def console_script(name: str) -> str:
    """The service's console script installed beside this interpreter (the uv workspace's environment)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"console script {name} missing at {path}: run `uv sync --all-packages`")
    return str(path)


def service_specs(
    database_url: str,
    amqp_url: str,
    otlp_endpoint: str,
    queue_prefix: str,
    retry_delays_s: Sequence[float],
    scheduler_api_key: str,
) -> tuple[list[ServiceSpec], str, str]:
    """The four services' specs (in start order), the API URL and template-svc's gRPC address."""
    api_port, grpc_port = free_port(), free_port()
    template_probe, worker_probe, scheduler_probe = free_port(), free_port(), free_port()
    grpc_address = f"127.0.0.1:{grpc_port}"
    api_url = f"http://127.0.0.1:{api_port}"
    common = {
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "QUEUE_PREFIX": queue_prefix,
        "RETRY_DELAYS_S": json.dumps(list(retry_delays_s)),
        "TEMPLATE_SVC_ADDR": grpc_address,
        "CAMPAIGN_API_URL": api_url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: spans reach the receiver within a fraction of a second
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        "DEPLOYMENT_ENVIRONMENT": "e2e",
        "LOG_LEVEL": "INFO",
        "PROBE_HOST": "127.0.0.1",
    }
    specs = [
        ServiceSpec(
            "template-svc",
            (console_script("template-svc"),),
            template_probe,
            {**common, "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(grpc_port), "PROBE_PORT": str(template_probe)},
        ),
        ServiceSpec(
            "campaign-api",
            (console_script("campaign-api"), "serve"),
            api_port,
            # the tests poll with one key: the rate limits are tested in campaign-api's suite
            {**common, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(api_port), "RATE_LIMIT_REQUESTS": "1000000"},
        ),
        ServiceSpec(
            "dispatch-worker",
            (console_script("dispatch-worker"),),
            worker_probe,
            {
                **common,
                "PROBE_PORT": str(worker_probe),
                "MOCK_SUCCESS_PROBABILITY": "1",
                "MOCK_SEED": "7",
                "MOCK_LATENCY": "fixed",
                "MOCK_LATENCY_MEAN_MS": "5",
                "QUEUE_DEPTH_INTERVAL_S": "0.5",
                "SHUTDOWN_GRACE_S": "5",
            },
        ),
        ServiceSpec(
            "scheduler",
            (console_script("scheduler"),),
            scheduler_probe,
            {
                **common,
                "PROBE_PORT": str(scheduler_probe),
                "POLL_INTERVAL_S": "0.5",
                "SCHEDULER_API_KEY": scheduler_api_key,
            },
        ),
    ]
    return specs, api_url, grpc_address


def start(spec: ServiceSpec, workdir: Path, cwd: Path) -> RunningService:
    """Start one service with a clean environment (PATH and HOME from ours, the rest from the spec)."""
    stdout_path, stderr_path = workdir / f"{spec.name}.out", workdir / f"{spec.name}.err"
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(spec.argv, env={**base, **spec.env}, stdout=stdout, stderr=stderr, cwd=cwd)
    return RunningService(spec, process, stdout_path, stderr_path)


async def wait_ready(services: Sequence[RunningService], timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll each /ready until it answers 200; fail naming the service and its output when one never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        for running in services:
            last = "no answer"
            while True:
                if running.process.poll() is not None:
                    raise RuntimeError(
                        f"{running.spec.name} exited with {running.process.returncode}:\n{running.tail()}"
                    )
                try:
                    response = await client.get(f"{running.spec.probe_url}/ready")
                    if response.status_code == 200:
                        break
                    last = f"{response.status_code} {response.text}"
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}"
                if loop.time() > deadline:
                    raise TimeoutError(
                        f"{running.spec.name} not ready within {timeout_s}s (last: {last}):\n{running.tail()}"
                    )
                await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running_stack(
    stack: Stack, specs: Sequence[ServiceSpec], workdir: Path, cwd: Path, amqp_url: str
) -> AsyncIterator[Stack]:
    """Start the services in order, wait until every one is ready; at the end stop them (SIGTERM, in reverse) and
    remove the run's queues."""
    try:
        for spec in specs:
            stack.services[spec.name] = start(spec, workdir, cwd)
        await wait_ready(list(stack.services.values()))
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        stack.kill_leftovers()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            await delete_topology(await connection.channel(), Topology(stack.queue_prefix, stack.retry_delays_s))

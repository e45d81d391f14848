"""The real platform for the browser suite: the four services as local processes over a throwaway database.

It reuses the repo's end-to-end harness (tests/e2e/stack.py: free ports, clean environments, /ready polling, logs
to files, ordered SIGTERM) with its own queue prefix, and seeds the demo customers the flows send to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# the harness lives with the repo's e2e tests (and imports the live PromQL check from beside the observability ones)
sys.path[:0] = [str(REPO_ROOT / "tests" / "e2e"), str(REPO_ROOT / "tests" / "observability")]

from dispatch.topology import Topology, delete_topology  # noqa: E402
from otlp_receiver import RunningReceiver, otlp_receiver  # noqa: E402
from stack import Stack, console_script, service_specs, start, wait_ready  # noqa: E402

WEB_DIR = REPO_ROOT / "web"
DIST_DIR = WEB_DIR / "dist"
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
# sent by the browser; checked by the API once authentication lands (issue 12 reads DEV_API_KEY as the demo key)
E2E_API_KEY = "e2e-dashboard-key"


@pytest.fixture(scope="session")
async def otlp() -> AsyncIterator[RunningReceiver]:
    """Somewhere for the services' spans to go (the harness exports traces)."""
    async with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def seeded_database(database_url: str) -> str:
    """This run's migrated database with the demo customers and campaigns (`campaign-api seed`)."""
    result = subprocess.run(  # noqa: S603 - fixed argv
        [console_script("campaign-api"), "seed"],
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"campaign-api seed failed:\n{result.stderr[-3000:]}"
    return database_url


@pytest.fixture(scope="session")
async def web_stack(
    seeded_database: str, amqp_url: str, otlp: RunningReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """template-svc, campaign-api (relay and the built dashboard under /app/), dispatch-worker and scheduler."""
    if not (DIST_DIR / "index.html").is_file():
        pytest.fail(f"no dashboard build in {DIST_DIR}: run `make web-build` (npm run build in web/) first")
    token = uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    queue_prefix = f"web_{token}"
    specs, api_url, grpc_address = service_specs(seeded_database, amqp_url, otlp.endpoint, queue_prefix, RETRY_DELAYS_S)
    extra = {"WEB_DIST_DIR": str(DIST_DIR), "DEV_API_KEY": E2E_API_KEY}
    specs = [dataclasses.replace(spec, env={**spec.env, **extra}) for spec in specs]
    workdir = tmp_path_factory.mktemp("web-e2e-logs")
    running = Stack({}, api_url, grpc_address, queue_prefix, RETRY_DELAYS_S)
    try:
        for spec in specs:
            running.services[spec.name] = start(spec, workdir, REPO_ROOT)
        await wait_ready(list(running.services.values()))
        yield running
    finally:
        await asyncio.to_thread(running.stop)
        running.kill_leftovers()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            await delete_topology(await connection.channel(), Topology(queue_prefix, RETRY_DELAYS_S))

"""Fixtures of the end-to-end observability check: an OTLP receiver, the four real services, Prometheus."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# the live PromQL check lives beside the other observability tests; import it from there, as they do
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "observability"))

from campaign_api.accounts import ACCOUNT_SCOPES, SYSTEM_SCOPES
from campaign_api.main import create_account, create_key
from campaign_api.settings import Settings
from otlp_receiver import RunningReceiver, otlp_receiver
from stack import Stack, running_stack, service_specs

RETRY_DELAYS_S = (0.5, 1.0, 2.0)


@pytest.fixture(scope="session")
async def otlp() -> AsyncIterator[RunningReceiver]:
    """An OTLP/gRPC trace receiver in this event loop; every service exports its spans to it."""
    async with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def e2e_run_id() -> str:
    """One token for the whole session: the stack is started once for every e2e test.

    Letters only: it names the queues, whose labels the metric checks scan for anything that looks like a phone.
    """
    return uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))


@pytest.fixture(scope="session")
async def stack(
    database_url: str,
    amqp_url: str,
    otlp: RunningReceiver,
    e2e_run_id: str,
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """template-svc, campaign-api (with its relay), dispatch-worker and scheduler as real processes, all ready."""
    queue_prefix = f"e2e_{e2e_run_id}"
    # what `campaign-api accounts create` and `keys create` do: an account for the test's calls, a system key
    settings = Settings(database_url=database_url)
    account_id = await create_account(settings, f"e2e-{e2e_run_id}")
    api_key = await create_key(settings, str(account_id), ACCOUNT_SCOPES, "e2e")
    system_key = await create_key(settings, None, SYSTEM_SCOPES, "e2e scheduler")
    specs, api_url, grpc_address = service_specs(
        database_url, amqp_url, otlp.endpoint, queue_prefix, RETRY_DELAYS_S, system_key
    )
    workdir = tmp_path_factory.mktemp("e2e-logs")
    running = Stack({}, api_url, grpc_address, queue_prefix, RETRY_DELAYS_S, api_key, system_key)
    async with running_stack(running, specs, workdir, repo_root, amqp_url) as ready:
        yield ready


@pytest.fixture(scope="session")
def prometheus_binary(repo_root: Path) -> str:
    """The prometheus server binary, installed from Debian's package by tools/ensure_prometheus.py when missing."""
    tool = repo_root / "tools" / "ensure_prometheus.py"
    result = subprocess.run([sys.executable, str(tool)], capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        pytest.fail(
            f"prometheus is not available and could not be installed: {result.stderr.strip()}\n"
            f"Install Debian's package (`apt-get install -y prometheus`), then rerun."
        )
    binary: str = json.loads(result.stdout)["prometheus"]
    return binary

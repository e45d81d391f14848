"""The real platform for the browser suite: the four services as local processes over a throwaway database.

It reuses the repo's end-to-end harness (tests/e2e/stack.py: free ports, clean environments, /ready polling, logs
to files, ordered SIGTERM) with its own queue prefix, and seeds the demo customers the flows send to.
"""

from __future__ import annotations

import dataclasses
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# the harness lives with the repo's e2e tests (and imports the live PromQL check from beside the observability ones)
sys.path[:0] = [str(REPO_ROOT / "tests" / "e2e"), str(REPO_ROOT / "tests" / "observability")]

from campaign_api.accounts import ACCOUNT_SCOPES, SYSTEM_SCOPES  # noqa: E402
from campaign_api.main import create_key, seed  # noqa: E402
from campaign_api.settings import Settings  # noqa: E402
from otlp_receiver import RunningReceiver, otlp_receiver  # noqa: E402
from stack import Stack, running_stack, service_specs  # noqa: E402

WEB_DIR = REPO_ROOT / "web"
DIST_DIR = WEB_DIR / "dist"
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
# the demo account's key the browser signs in with, made by `keys create --from-env` as `make up` makes DEV_API_KEY
E2E_API_KEY = "cdk_e2e-dashboard-key-0123456789abcdefghij"


@pytest.fixture(scope="session")
async def otlp() -> AsyncIterator[RunningReceiver]:
    """Somewhere for the services' spans to go (the harness exports traces)."""
    async with otlp_receiver() as receiver:
        yield receiver


@dataclasses.dataclass(frozen=True)
class SeededDatabase:
    url: str
    system_key: str


@pytest.fixture(scope="session")
async def seeded_database(database_url: str) -> SeededDatabase:
    """This run's migrated database with the demo account's customers and campaigns (`campaign-api seed`), the
    key the browser signs in with and the scheduler's system key."""
    settings = Settings(database_url=database_url)
    await seed(settings)  # what `campaign-api seed` loads, into the demo account
    await create_key(settings, "demo", ACCOUNT_SCOPES, "e2e dashboard", secret=E2E_API_KEY)
    system_key = await create_key(settings, None, SYSTEM_SCOPES, "e2e scheduler")
    return SeededDatabase(database_url, system_key)


@pytest.fixture(scope="session")
async def web_stack(
    seeded_database: SeededDatabase, amqp_url: str, otlp: RunningReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """template-svc, campaign-api (relay and the built dashboard under /app/), dispatch-worker and scheduler."""
    if not (DIST_DIR / "index.html").is_file():
        pytest.fail(f"no dashboard build in {DIST_DIR}: run `make web-build` (npm run build in web/) first")
    token = uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    queue_prefix = f"web_{token}"
    specs, api_url, grpc_address = service_specs(
        seeded_database.url, amqp_url, otlp.endpoint, queue_prefix, RETRY_DELAYS_S, seeded_database.system_key
    )
    extra = {"WEB_DIST_DIR": str(DIST_DIR)}
    specs = [dataclasses.replace(spec, env={**spec.env, **extra}) for spec in specs]
    workdir = tmp_path_factory.mktemp("web-e2e-logs")
    running = Stack({}, api_url, grpc_address, queue_prefix, RETRY_DELAYS_S, E2E_API_KEY, seeded_database.system_key)
    async with running_stack(running, specs, workdir, REPO_ROOT, amqp_url) as ready:
        yield ready

"""The operator controls end to end: the real campaign-api (in process), the outbox relay, dispatch-worker
processes and a private RabbitMQ topology over this suite's own database.

They live beside the repo-wide tests because they need two services at once: an operator's request to
campaign-api, and what the workers do (or stop doing) about it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_app, create_key
from campaign_api.settings import Settings
from dispatch.topology import Topology
from dispatch_worker_tests.integration.pipeline import remove_topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import ApplySchema, throwaway_database

# short retry tiers, so a simulated outage exhausts a message's attempts within a couple of seconds
TIERS = (0.2, 0.4, 0.6)


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database."""
    with throwaway_database(apply_schema) as url:
        yield url


@pytest.fixture(scope="session")
def phone_sequence(database_url: str) -> None:
    """Unique phone numbers for the customers the seeded campaigns create (dispatch_worker_tests' seed_campaign)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS seq_phone START 1000000")
        conn.execute(USE_TEST_ACCOUNT)


@pytest.fixture(scope="session")
async def pool(database_url: str, phone_sequence: None) -> AsyncIterator[AsyncConnectionPool]:
    """The owner's pool: the relay runs over it, and the assertions read through it."""
    async with AsyncConnectionPool(database_url, min_size=1, max_size=8, open=False) as opened:
        yield opened


@pytest.fixture
async def topology(amqp_url: str) -> AsyncIterator[Topology]:
    """This test's own queues; deleted afterwards."""
    declared = Topology(prefix=f"test_ops_{uuid.uuid4().hex[:12]}", retry_delays_s=TIERS)
    yield declared
    await remove_topology(amqp_url, declared)


@pytest.fixture
async def operator(
    database_url: str, template_svc_addr: str, amqp_url: str, topology: Topology, pool: AsyncConnectionPool
) -> AsyncIterator[httpx.AsyncClient]:
    """An operator's client of the real campaign-api, with a key of the account the seeded campaigns belong to.

    The app publishes into (and prunes the DLQ of) this test's topology; the relay runs in the test instead.
    """
    settings = Settings(
        database_url=database_url,
        template_svc_addr=template_svc_addr,
        amqp_url=amqp_url,
        queue_prefix=topology.prefix,
        retry_delays_s=topology.retry_delays_s,
        relay_enabled=False,
        rate_limit_requests=1_000_000,
        rate_limit_sends=1_000_000,
    )
    key = await create_key(settings, "tests", ACCOUNT_SCOPES, "operator")
    app = create_app(settings, registry=CollectorRegistry())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as http:
            yield http

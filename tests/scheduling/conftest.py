"""The scheduler's scenarios against the real campaign-api, in process over this suite's own database.

They live here, beside the repo-wide tests, because they need two services at once: the scheduler's own suite
(services/scheduler/scheduler_tests) runs the same scenarios against its contract server and imports no other service.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from real_campaign_api import real_campaign_server
from scheduler_tests.integration.server_under_test import CampaignServer
from test_kit.pytest_plugin import ApplySchema, throwaway_database


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database: no other suite's due campaigns are seen here."""
    with throwaway_database(apply_schema) as url:
        yield url


@pytest.fixture
def closed_port_url() -> str:
    """A localhost URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def campaign_server(request: pytest.FixtureRequest) -> AsyncIterator[CampaignServer]:
    """The real campaign-api the scheduling scenarios run against."""
    async with real_campaign_server(request) as server:
        yield server

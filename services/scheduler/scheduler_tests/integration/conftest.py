"""Fixtures for the tests that talk HTTP: the contract server and the swappable campaign-api under test."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from scheduler_tests.integration.contract_server import ContractCampaignApi, serve_app
from scheduler_tests.integration.server_under_test import CampaignServer, ContractServer


@asynccontextmanager
async def contract_campaign_server(_: pytest.FixtureRequest) -> AsyncIterator[CampaignServer]:
    """A fresh contract server on a free port: a repeated send is refused with 409."""
    state = ContractCampaignApi()
    async with serve_app(state.app()) as base_url:
        yield ContractServer(state, base_url)


@asynccontextmanager
async def replaying_contract_campaign_server(_: pytest.FixtureRequest) -> AsyncIterator[CampaignServer]:
    """A contract server that answers a repeated Idempotency-Key with the first 202, marked as a replay."""
    state = ContractCampaignApi(replay_idempotent=True)
    async with serve_app(state.app()) as base_url:
        yield ContractServer(state, base_url)


# name -> factory, given the test's request so a factory can ask for the fixtures it needs; every scenario test runs
# once per entry. The same scenarios run against the real campaign-api from the repo-wide tests/scheduling, so this
# service's own suite imports no other service
SERVERS: dict[str, Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[CampaignServer]]] = {
    "contract": contract_campaign_server,
    "contract-replaying": replaying_contract_campaign_server,
}


@pytest.fixture(params=sorted(SERVERS))
async def campaign_server(request: pytest.FixtureRequest) -> AsyncIterator[CampaignServer]:
    """The campaign-api the scheduling scenarios run against."""
    async with SERVERS[request.param](request) as server:
        yield server


@pytest.fixture
async def contract_api() -> AsyncIterator[tuple[ContractCampaignApi, str]]:
    """The contract server itself, for fault injection: (state, base URL)."""
    state = ContractCampaignApi()
    async with serve_app(state.app()) as base_url:
        yield state, base_url


@pytest.fixture
def closed_port_url() -> str:
    """A localhost URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

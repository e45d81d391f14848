"""Fixtures: the real app over a throwaway migrated database and a real template-svc."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.main import create_app
from campaign_api.settings import Settings
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from test_kit.pytest_plugin import ApplySchema, throwaway_database

from campaign_api_tests.factories import KeyedAccount, new_account


@pytest.fixture(scope="session")
def settings(database_url: str, template_svc_addr: str) -> Settings:
    """Settings pointing at this run's database and template-svc; the relay is tested on its own (tests/outbox)."""
    return Settings(
        database_url=database_url,
        template_svc_addr=template_svc_addr,
        db_pool_max_size=8,
        relay_enabled=False,
        # the suite's one key makes every request: the limits have their own tests (test_rate_limits.py)
        rate_limit_requests=1_000_000,
        rate_limit_sends=1_000_000,
        # sends create their first 1,000 messages in the request; the rest is created by the expansion loop, which
        # the suite's app does not run: test_audience_expansion.py drives it step by step
        expansion_enabled=False,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real app with its lifespan running for the whole session."""
    application = create_app(settings, registry=CollectorRegistry())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def account(settings: Settings) -> KeyedAccount:
    """The account the session's client acts for."""
    return await new_account(settings, "campaign-api-tests")


@pytest.fixture(scope="session")
async def other_account(settings: Settings) -> KeyedAccount:
    """A second account, for isolation tests."""
    return await new_account(settings, "other-business")


@pytest.fixture(scope="session")
async def client(app: FastAPI, account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with an all-scopes key of the session's account."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=account.headers) as http:
        yield http


@pytest.fixture
async def db(database_url: str, account: KeyedAccount) -> AsyncIterator[psycopg.AsyncConnection[tuple[Any, ...]]]:
    """A direct connection (the owner's, above row-level security) for assertions on what the API stored; the
    rows it inserts belong to the session's account."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SELECT set_config('app.account_id', %s, false)", (str(account.id),))
        yield conn


@pytest.fixture
async def empty_db(db: psycopg.AsyncConnection[tuple[Any, ...]]) -> None:
    """Start from no campaigns, customers or keys, for tests that count rows."""
    await db.execute("TRUNCATE outbound_messages, campaigns, customers, idempotency_keys RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database: no other suite's rows (due campaigns, counts) are seen here."""
    with throwaway_database(apply_schema) as url:
        yield url


@pytest.fixture(autouse=True)
async def compliance_defaults(database_url: str) -> AsyncIterator[None]:
    """Every test ends with every account back on the compliance defaults and no suppression (a test, or the
    fuzzer, that sets a window (the account's or a sender's), an opt-out rule or suppresses a phone must not change
    what later tests send)."""
    yield
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("DELETE FROM account_compliance")
        await conn.execute("DELETE FROM suppressions")
        await conn.execute(
            "UPDATE senders SET window_preset = NULL, window_start = NULL, window_end = NULL, window_time_zone = NULL"
            " WHERE window_time_zone IS NOT NULL"
        )

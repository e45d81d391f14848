"""Fixtures of the dispatch-worker tests: a migrated database, the broker, a real template-svc, seeded rows, Kannel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from test_kit.pytest_plugin import ApplySchema, throwaway_database

from dispatch_worker_tests.kannel_gateway import KannelGateway, run_kannel


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """A connection pool on this session's database."""
    async with AsyncConnectionPool(database_url, min_size=1, max_size=8, open=False) as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def phone_sequence(database_url: str) -> None:
    """Unique phone numbers across every seeded campaign of the session."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS seq_phone START 1000000")


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database: no other suite's rows (due campaigns, counts) are seen here."""
    with throwaway_database(apply_schema) as url:
        yield url


@pytest.fixture(scope="session")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelGateway]:
    """A real Kannel (bearerbox, smsbox, fakesmsc) for this session; fails naming the apt command when missing."""
    with run_kannel(tmp_path_factory.mktemp("kannel")) as gateway:
        yield gateway

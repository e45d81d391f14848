"""Plugins for every scheduler test: a throwaway migrated database and a real template-svc, started only when a
test asks for them (the scenarios against the real campaign-api do)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_kit.pytest_plugin import ApplySchema, throwaway_database


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database: no other suite's rows (due campaigns, counts) are seen here."""
    with throwaway_database(apply_schema) as url:
        yield url

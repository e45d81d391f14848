"""One test run for the whole workspace: the shared fixtures, wired to the services they need.

test_kit's plugin makes throwaway databases; they are migrated by the schema owner's own migration function,
and suites that render get one real template-svc for the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from campaign_api.migrations import apply_migrations
from pydantic import PostgresDsn
from template_svc_tests.background_server import serve_in_background

pytest_plugins = ["test_kit.pytest_plugin"]


def migrate(url: str) -> int:
    """Apply campaign-api's migrations to the database at `url` (what `campaign-api migrate` runs)."""
    return apply_migrations(PostgresDsn(url))


@pytest.fixture(scope="session")
def apply_schema() -> object:
    """How a throwaway database gets the production schema."""
    return migrate


@pytest.fixture(scope="session")
def template_svc_addr() -> Iterator[str]:
    """A running template-svc for the whole test session: "127.0.0.1:PORT"."""
    with serve_in_background() as running:
        yield f"127.0.0.1:{running.port}"

"""The compliance rules across both services that enforce them: campaign-api (the send, the settings, inbound
keywords) and the dispatch worker's gate, in process over this suite's own database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_kit.pytest_plugin import ApplySchema, throwaway_database


@pytest.fixture(scope="session")
def database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """This suite's own database."""
    with throwaway_database(apply_schema) as url:
        yield url

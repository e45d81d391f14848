"""`campaign-api seed` loads demo data once; loading again changes nothing."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from campaign_api.main import seed
from campaign_api.phone_numbers import normalise_phone
from campaign_api.seed_data import CUSTOMERS
from campaign_api.settings import Settings

COUNTS = """
    SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM campaigns),
           (SELECT count(*) FROM outbound_messages),
           (SELECT array_agg(DISTINCT status ORDER BY status) FROM campaigns)
"""


@pytest.mark.usefixtures("empty_db")
async def test_seed_is_idempotent(settings: Settings, db: psycopg.AsyncConnection[tuple[Any, ...]]) -> None:
    await seed(settings)
    first = await (await db.execute(COUNTS)).fetchone()
    await seed(settings)
    second = await (await db.execute(COUNTS)).fetchone()

    assert first == second
    assert first is not None
    assert first[0] >= 12 and first[1] == 3 and first[2] > 0
    assert first[3] == ["draft", "scheduled", "sent"]


def test_seed_phones_are_valid_kenyan_e164_and_fields_vary() -> None:
    assert all(normalise_phone(c.phone) == c.phone and c.phone.startswith("+254") for c in CUSTOMERS)
    assert any(c.first_name is None for c in CUSTOMERS)
    assert any(c.location is None for c in CUSTOMERS)
    assert any(c.preferred_product is None for c in CUSTOMERS)
    assert any(not (c.first_name or "").isascii() for c in CUSTOMERS)

"""Time in JSON: scheduled_at accepted with any offset, compared as an instant, every timestamp answered in UTC (Z)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import psycopg

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def at_offset(instant: datetime, hours: float) -> str:
    """The instant written in another time zone."""
    return instant.astimezone(timezone(timedelta(hours=hours))).isoformat()


async def test_scheduled_at_in_any_offset_is_stored_and_answered_in_utc(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    instant = datetime.now(UTC).replace(microsecond=250_000) + timedelta(days=3)
    created = await create_campaign(client, scheduled_at=at_offset(instant, 5.5))

    detail = (await client.get(f"/campaigns/{created['id']}")).json()

    expected = instant.strftime("%Y-%m-%dT%H:%M:%S.250000Z")
    assert created["scheduled_at"] == detail["scheduled_at"] == expected
    cur = await db.execute("SELECT scheduled_at FROM campaigns WHERE id = %s", (created["id"],))
    assert (await cur.fetchone()) == (instant,)


async def test_the_future_is_judged_by_the_instant_not_the_wall_clock(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    # an hour ahead, written at UTC-10: its wall-clock reading is earlier than UTC's now
    ahead = await create_campaign(client, scheduled_at=at_offset(now + timedelta(hours=1), -10))
    assert ahead["status"] == "scheduled"
    # an hour ago, written at UTC+14: its wall-clock reading is later than UTC's now
    body = {
        "name": "n",
        "channel": "sms",
        "base_template": "Hi",
        "scheduled_at": at_offset(now - timedelta(hours=1), 14),
    }
    message = assert_error(await client.post("/campaigns", json=body), 422, "SCHEDULED_AT_IN_PAST")
    assert message.startswith("body.scheduled_at: ") and "Z is in the past" in message


async def test_every_timestamp_in_every_answer_is_utc_with_z(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    customer = await create_customer(client)
    campaign = await create_campaign(client, scheduled_at=at_offset(datetime.now(UTC) + timedelta(days=1), -3))
    patched = await client.patch(
        f"/campaigns/{campaign['id']}", json={"scheduled_at": at_offset(datetime.now(UTC) + timedelta(days=2), 9)}
    )
    await db.execute("UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (campaign["id"],))
    answers = [
        campaign,
        patched.json(),
        (await client.get(f"/campaigns/{campaign['id']}")).json(),
        (await client.get("/campaigns", params={"page_size": 5})).json(),
        (await client.get("/campaigns/due", params={"limit": 500})).json(),
        customer,
        (await client.get("/customers", params={"page_size": 5})).json(),
    ]

    stamps = [value for answer in answers for value in timestamps(answer)]

    assert len(stamps) >= 10
    assert [s for s in stamps if not UTC_Z.match(s)] == []


def timestamps(value: Any) -> list[str]:
    """Every non-null *_at value anywhere in a JSON answer."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k.endswith("_at") and isinstance(v, str)]
        return found + [s for v in value.values() for s in timestamps(v)]
    if isinstance(value, list):
        return [s for item in value for s in timestamps(item)]
    return []

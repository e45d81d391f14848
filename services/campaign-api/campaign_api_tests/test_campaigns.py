"""POST /campaigns and GET /campaigns/{id}: validation, statuses, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import psycopg
import pytest

from campaign_api_tests.factories import assert_error, create_campaign, create_customer


async def test_campaign_without_schedule_is_created_as_draft(client: httpx.AsyncClient) -> None:
    created = await create_campaign(client, name="Summer Sale 2025")
    assert created["status"] == "draft"
    assert created["name"] == "Summer Sale 2025"
    assert created["scheduled_at"] is None
    assert created["created_at"].endswith("Z")
    assert isinstance(created["id"], int)


async def test_campaign_with_future_schedule_is_scheduled(client: httpx.AsyncClient) -> None:
    when = datetime.now(UTC) + timedelta(days=1)
    created = await create_campaign(client, scheduled_at=when.astimezone(timezone(timedelta(hours=3))).isoformat())
    assert created["status"] == "scheduled"
    assert datetime.fromisoformat(created["scheduled_at"]) == when


async def test_past_schedule_is_rejected_with_its_own_code(client: httpx.AsyncClient) -> None:
    body = {"name": "late", "channel": "sms", "base_template": "Hi", "scheduled_at": "2020-01-01T00:00:00Z"}
    message = assert_error(await client.post("/campaigns", json=body), 422, "SCHEDULED_AT_IN_PAST")
    assert "scheduled_at" in message


async def test_schedule_without_offset_is_rejected(client: httpx.AsyncClient) -> None:
    body = {"name": "naive", "channel": "sms", "base_template": "Hi", "scheduled_at": "2099-01-01T10:00:00"}
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert "body.scheduled_at" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "sms", "base_template": "Hi"}, "body.name"),
        ({"name": "   ", "channel": "sms", "base_template": "Hi"}, "body.name"),
        ({"name": "x" * 201, "channel": "sms", "base_template": "Hi"}, "body.name"),
        ({"name": "n", "channel": "email", "base_template": "Hi"}, "body.channel"),
        ({"name": "n", "channel": "sms", "base_template": ""}, "body.base_template"),
        ({"name": "n", "channel": "sms", "base_template": "x" * 4097}, "body.base_template"),
        ({"name": "n", "channel": "sms", "base_template": "Hi", "colour": "red"}, "body.colour"),
        ({"name": "n", "channel": "sms", "base_template": "Hi", "audience": {}}, "body.audience"),
    ],
)
async def test_invalid_campaign_fields_are_named(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert field in message


async def test_channel_error_lists_the_allowed_values(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "channel": "email", "base_template": "Hi"}
    message = assert_error(await client.post("/campaigns", json=body), 422, "VALIDATION_ERROR")
    assert message == "body.channel: Input should be 'sms' or 'whatsapp'"


async def test_unknown_placeholder_is_rejected_naming_it_and_its_position(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "channel": "sms", "base_template": "Hi {first_name}, {shoe_size}!"}
    message = assert_error(await client.post("/campaigns", json=body), 422, "INVALID_TEMPLATE")
    assert "shoe_size" in message
    assert "position 17" in message


async def test_unbalanced_brace_is_rejected(client: httpx.AsyncClient) -> None:
    body = {"name": "n", "channel": "sms", "base_template": "Hi {first_name"}
    assert_error(await client.post("/campaigns", json=body), 422, "INVALID_TEMPLATE")


async def test_malformed_json_is_its_own_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/campaigns", content=b'{"name": ', headers={"content-type": "application/json"})
    assert_error(response, 400, "MALFORMED_JSON")


async def test_campaign_details_carry_stats_by_message_status(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client, base_template="Hi {first_name}, see {preferred_product}!")
    ids = [(await create_customer(client))["id"] for _ in range(9)]
    send = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    assert send.status_code == 202
    # what workers would have done by now: two sent, one failed, one in flight, three never attempted
    statuses = ["sent", "sent", "failed", "sending", "suppressed", "expired", "cancelled"]
    for customer_id, status in zip(ids, statuses, strict=False):
        await db.execute(
            "UPDATE outbound_messages SET status = %s, sent_at = now() WHERE campaign_id = %s AND customer_id = %s",
            (status, campaign["id"], customer_id),
        )

    response = await client.get(f"/campaigns/{campaign['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["stats"] == {
        "total": 9,
        "pending": 2,
        "sending": 1,
        "sent": 2,
        "failed": 1,
        "suppressed": 1,
        "expired": 1,
        "cancelled": 1,
        # no receipt has come for any of them
        "delivered": 0,
        "undelivered": 0,
        "read": 0,
    }
    assert body["status"] == "sending"
    assert set(body) >= {"id", "name", "channel", "status", "base_template", "scheduled_at", "created_at", "stats"}
    assert body["base_template"] == "Hi {first_name}, see {preferred_product}!"


async def test_new_campaign_has_zero_stats(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    body = (await client.get(f"/campaigns/{campaign['id']}")).json()
    assert body["stats"] == dict.fromkeys(
        (
            "total",
            "pending",
            "sending",
            "sent",
            "failed",
            "suppressed",
            "expired",
            "cancelled",
            "delivered",
            "undelivered",
            "read",
        ),
        0,
    )


async def test_unknown_campaign_is_404(client: httpx.AsyncClient) -> None:
    message = assert_error(await client.get("/campaigns/999999999"), 404, "CAMPAIGN_NOT_FOUND")
    assert "999999999" in message


async def test_non_numeric_campaign_id_is_422(client: httpx.AsyncClient) -> None:
    message = assert_error(await client.get("/campaigns/abc"), 422, "VALIDATION_ERROR")
    assert "path.campaign_id" in message


async def test_audience_is_stored_and_shown(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, audience={"segment": {"location": "Nairobi"}})
    body = (await client.get(f"/campaigns/{campaign['id']}")).json()
    assert body["audience"] == {
        "customer_ids": None,
        "segment": {"all": False, "location": "Nairobi", "preferred_product": None},
    }

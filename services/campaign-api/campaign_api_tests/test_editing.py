"""PATCH /campaigns/{id} and POST /campaigns/{id}/cancel: partial updates, the state machine, the row lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import psycopg
import pytest

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

Db = psycopg.AsyncConnection[tuple[Any, ...]]
NAIROBI = {"segment": {"all": False, "location": "Nairobi", "preferred_product": None}, "customer_ids": None}


def in_a_day() -> str:
    """A scheduled_at safely in the future."""
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


async def campaign_in(client: httpx.AsyncClient, db: Db, status: str) -> dict[str, Any]:
    """A campaign in the given status: draft and scheduled through the API, the rest as a send leaves them."""
    if status == "draft":
        return await create_campaign(client)
    if status == "scheduled":
        return await create_campaign(client, scheduled_at=in_a_day())
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    send = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})
    assert send.status_code == 202
    if status != "sending":  # what the completion sweep does once every message is final
        await db.execute("UPDATE campaigns SET status = %s WHERE id = %s", (status, campaign["id"]))
    return campaign


async def detail(client: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    response = await client.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_patch_changes_only_the_fields_in_the_body(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(
        client, name="Before", base_template="Hi {first_name}!", scheduled_at=in_a_day(), audience={"customer_ids": [1]}
    )

    response = await client.patch(f"/campaigns/{campaign['id']}", json={"name": "After"})

    assert response.status_code == 200
    assert response.json() == {**campaign, "name": "After"}
    assert {
        k: v
        for k, v in (await detail(client, campaign["id"])).items()
        if k not in {"stats", "usage", "waiting", "expansion"}
    } == response.json()


async def test_patch_edits_every_editable_field_at_once(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)

    response = await client.patch(
        f"/campaigns/{campaign['id']}",
        json={
            "name": "Renamed",
            "base_template": "Hello {first_name|friend}, {preferred_product} awaits",
            "scheduled_at": when.isoformat(),
            "audience": {"segment": {"location": "Nairobi"}},
        },
    )

    assert response.status_code == 200
    body = await detail(client, campaign["id"])
    assert body["name"] == "Renamed"
    assert body["base_template"] == "Hello {first_name|friend}, {preferred_product} awaits"
    assert datetime.fromisoformat(body["scheduled_at"]) == when
    assert body["status"] == "scheduled"
    assert body["audience"] == NAIROBI
    assert body["channel"] == campaign["channel"]


async def test_patch_with_a_future_time_in_any_offset_schedules_a_draft(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    pacific = when.astimezone(timezone(timedelta(hours=-7)))

    response = await client.patch(f"/campaigns/{campaign['id']}", json={"scheduled_at": pacific.isoformat()})

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert response.json()["scheduled_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_patch_with_null_time_makes_a_scheduled_campaign_a_draft(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, scheduled_at=in_a_day(), audience={"customer_ids": [1]})

    response = await client.patch(f"/campaigns/{campaign['id']}", json={"scheduled_at": None})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["scheduled_at"]) == ("draft", None)
    assert response.json()["audience"] == campaign["audience"]


async def test_patch_with_a_past_time_is_rejected_and_changes_nothing(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, scheduled_at=in_a_day())

    response = await client.patch(
        f"/campaigns/{campaign['id']}", json={"name": "Late", "scheduled_at": "2020-01-01T00:00:00+02:00"}
    )

    message = assert_error(response, 422, "SCHEDULED_AT_IN_PAST")
    assert "body.scheduled_at" in message
    body = await detail(client, campaign["id"])
    assert (body["name"], body["status"], body["scheduled_at"]) == (
        campaign["name"],
        "scheduled",
        campaign["scheduled_at"],
    )


async def test_patch_replaces_the_audience_and_null_clears_it(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, audience={"customer_ids": [3, 1, 2]})

    replaced = await client.patch(
        f"/campaigns/{campaign['id']}", json={"audience": {"segment": {"location": "Nairobi"}}}
    )
    assert replaced.json()["audience"] == NAIROBI
    assert (await detail(client, campaign["id"]))["audience"] == NAIROBI

    cleared = await client.patch(f"/campaigns/{campaign['id']}", json={"audience": None})
    assert cleared.status_code == 200
    assert (await detail(client, campaign["id"]))["audience"] is None
    # without an audience a bodiless send has nobody to go to
    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_REQUIRED")


async def test_patch_template_is_checked_by_template_svc(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, base_template="Hi {first_name}!")

    bad = await client.patch(f"/campaigns/{campaign['id']}", json={"base_template": "Hi {shoe_size}!"})

    message = assert_error(bad, 422, "INVALID_TEMPLATE")
    assert "body.base_template" in message and "shoe_size" in message
    assert (await detail(client, campaign["id"]))["base_template"] == "Hi {first_name}!"
    good = await client.patch(f"/campaigns/{campaign['id']}", json={"base_template": "Hey {first_name|you}"})
    assert good.json()["base_template"] == "Hey {first_name|you}"


@pytest.mark.parametrize("status", ["sending", "sent", "failed"])
async def test_patch_after_sending_started_is_409(client: httpx.AsyncClient, db: Db, status: str) -> None:
    campaign = await campaign_in(client, db, status)

    response = await client.patch(f"/campaigns/{campaign['id']}", json={"name": "Too late"})

    message = assert_error(response, 409, "CAMPAIGN_NOT_EDITABLE")
    assert status in message
    body = await detail(client, campaign["id"])
    assert (body["name"], body["status"]) == (campaign["name"], status)


async def test_patch_of_an_unknown_campaign_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.patch("/campaigns/999999999", json={"name": "x"}), 404, "CAMPAIGN_NOT_FOUND")
    # the template check needs the channel: an unknown campaign is still a 404, not a template error
    response = await client.patch("/campaigns/999999999", json={"base_template": "Hi"})
    assert_error(response, 404, "CAMPAIGN_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"name": None}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"base_template": None}, "body.base_template"),
        ({"base_template": ""}, "body.base_template"),
        ({"channel": "whatsapp"}, "body.channel"),  # the channel is fixed at creation
        ({"status": "sent"}, "body.status"),
        ({"scheduled_at": "2099-01-01T10:00:00"}, "body.scheduled_at"),
        ({"audience": {}}, "body.audience"),
        ({"audience": {"segment": {"all": True, "location": "Nairobi"}}}, "body.audience.segment"),
    ],
)
async def test_invalid_patch_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    campaign = await create_campaign(client)
    message = assert_error(await client.patch(f"/campaigns/{campaign['id']}", json=body), 422, "VALIDATION_ERROR")
    assert message.startswith(field), message
    assert (await detail(client, campaign["id"]))["name"] == campaign["name"]


async def test_patch_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    response = await client.patch(
        f"/campaigns/{campaign['id']}", content=b"{name", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "MALFORMED_JSON")


async def test_patch_waits_for_the_row_lock_and_then_sees_the_new_status(
    client: httpx.AsyncClient, database_url: str
) -> None:
    campaign = await create_campaign(client, scheduled_at=in_a_day())
    async with await psycopg.AsyncConnection.connect(database_url) as holder:
        # a send in progress elsewhere: it holds the row, and will commit 'sending'
        await holder.execute("SELECT id FROM campaigns WHERE id = %s FOR UPDATE", (campaign["id"],))
        patch = asyncio.create_task(client.patch(f"/campaigns/{campaign['id']}", json={"name": "Racing"}))
        await asyncio.sleep(0.3)
        assert not patch.done()
        await holder.execute("UPDATE campaigns SET status = 'sending' WHERE id = %s", (campaign["id"],))
        await holder.commit()
        response = await asyncio.wait_for(patch, 5)

    assert_error(response, 409, "CAMPAIGN_NOT_EDITABLE")
    assert (await detail(client, campaign["id"]))["name"] == campaign["name"]


async def test_cancel_puts_a_scheduled_campaign_back_to_draft_without_a_time(client: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(client, scheduled_at=in_a_day(), audience={"segment": {"location": "Nairobi"}})
    # already due: the scheduler would pick it up on its next tick
    await db.execute("UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (campaign["id"],))
    assert campaign["id"] in await due_ids(client)

    response = await client.post(f"/campaigns/{campaign['id']}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["scheduled_at"], body["audience"]) == ("draft", None, NAIROBI)
    assert campaign["id"] not in await due_ids(client)
    assert (await detail(client, campaign["id"]))["status"] == "draft"


async def test_a_cancelled_campaign_can_be_scheduled_again(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, scheduled_at=in_a_day())
    assert (await client.post(f"/campaigns/{campaign['id']}/cancel")).status_code == 200

    again = await client.patch(f"/campaigns/{campaign['id']}", json={"scheduled_at": in_a_day()})

    assert again.json()["status"] == "scheduled"


@pytest.mark.parametrize("status", ["draft", "sent", "failed", "cancelled"])
async def test_cancel_of_a_campaign_that_is_not_scheduled_is_409(
    client: httpx.AsyncClient, db: Db, status: str
) -> None:
    campaign = await campaign_in(client, db, status)

    message = assert_error(await client.post(f"/campaigns/{campaign['id']}/cancel"), 409, "CAMPAIGN_NOT_CANCELLABLE")

    assert status in message
    assert (await detail(client, campaign["id"]))["status"] == status


async def test_cancel_of_an_unknown_campaign_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/campaigns/999999999/cancel"), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await client.post("/campaigns/abc/cancel"), 422, "VALIDATION_ERROR")
    assert_error(await client.get("/campaigns/1/cancel"), 405, "METHOD_NOT_ALLOWED")


async def test_openapi_documents_editing_and_cancelling(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    patch = spec["paths"]["/campaigns/{campaign_id}"]["patch"]
    cancel = spec["paths"]["/campaigns/{campaign_id}/cancel"]["post"]
    assert set(patch["responses"]) >= {"200", "404", "409", "422", "503"}
    assert set(cancel["responses"]) >= {"200", "404", "409", "503"}
    for operation in (patch, cancel):
        assert operation["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/CampaignBody")
    update = spec["components"]["schemas"]["UpdateCampaignRequest"]
    assert set(update["properties"]) == {
        "sender_id",
        "name",
        "base_template",
        "scheduled_at",
        "audience",
        "category",
        "validity_hours",
    }
    assert update["properties"]["name"]["type"] == "string"  # null is not accepted for a name
    assert "examples" in update
    assert "status_reason" in spec["components"]["schemas"]["CampaignBody"]["properties"]


async def due_ids(client: httpx.AsyncClient) -> list[int]:
    response = await client.get("/campaigns/due", params={"limit": 500})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["data"]]

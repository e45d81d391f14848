"""Stored audiences: segments resolve to exactly the right customers; an empty or missing audience never sends."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

Db = psycopg.AsyncConnection[tuple[Any, ...]]

# (location, preferred_product) of the customers every segment test starts from
PEOPLE = {
    "amina": ("Nairobi", "Running Shoes"),
    "brian": ("NAIROBI", "running shoes"),
    "chebet": ("nairobi", "Yoga Mat"),
    "dalmas": ("Mombasa", "Running Shoes"),
    "esther": ("Nairobi West", "Running Shoes"),
    "faith": (None, None),
}


async def people(client: httpx.AsyncClient) -> dict[str, int]:
    """Create PEOPLE through the API; return their ids by first name."""
    ids = {}
    for name, (location, product) in PEOPLE.items():
        created = await create_customer(client, first_name=name, location=location, preferred_product=product)
        ids[name] = created["id"]
    return ids


async def messaged(db: Db, campaign_id: int) -> list[int]:
    """The customers the campaign has a message for."""
    cur = await db.execute(
        "SELECT customer_id FROM outbound_messages WHERE campaign_id = %s ORDER BY customer_id", (campaign_id,)
    )
    return [row[0] for row in await cur.fetchall()]


async def make_due(db: Db, campaign_id: int) -> None:
    """Move scheduled_at just into the past, as if the time had come."""
    await db.execute("UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (campaign_id,))


async def detail(client: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/campaigns/{campaign_id}")).json()
    return body


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({"all": True}, ["amina", "brian", "chebet", "dalmas", "esther", "faith"]),
        ({"location": "nairobi"}, ["amina", "brian", "chebet"]),
        ({"location": "NaIrObI wEsT"}, ["esther"]),
        ({"preferred_product": "RUNNING SHOES"}, ["amina", "brian", "dalmas", "esther"]),
        ({"location": "Nairobi", "preferred_product": "running shoes"}, ["amina", "brian"]),
        ({"location": "Mombasa", "preferred_product": "Yoga Mat"}, []),
    ],
)
async def test_a_segment_resolves_to_exactly_its_customers(
    client: httpx.AsyncClient, db: Db, empty_db: None, segment: dict[str, Any], expected: list[str]
) -> None:
    ids = await people(client)
    campaign = await create_campaign(client, audience={"segment": segment})

    response = await client.post(f"/campaigns/{campaign['id']}/send")

    if not expected:
        assert_error(response, 422, "AUDIENCE_EMPTY")
    else:
        assert response.status_code == 202, response.text
        assert response.json()["messages_queued"] == len(expected)
    assert await messaged(db, campaign["id"]) == sorted(ids[name] for name in expected)


async def test_an_empty_segment_changes_nothing_and_can_be_retried_with_the_same_key(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign = await create_campaign(client, audience={"segment": {"location": "Nowhere-Town"}})
    headers = {"Idempotency-Key": "empty-then-not"}

    message = assert_error(
        await client.post(f"/campaigns/{campaign['id']}/send", headers=headers), 422, "AUDIENCE_EMPTY"
    )

    assert "nothing was queued" in message
    body = await detail(client, campaign["id"])
    assert (body["status"], body["status_reason"], body["stats"]["total"]) == ("draft", None, 0)
    # the error was not stored under the key: once somebody matches, the same key sends
    newcomer = await create_customer(client, location="nowhere-town")
    retried = await client.post(f"/campaigns/{campaign['id']}/send", headers=headers)
    assert retried.status_code == 202
    assert "Idempotent-Replayed" not in retried.headers
    assert await messaged(db, campaign["id"]) == [newcomer["id"]]


async def test_ids_that_all_have_a_message_already_are_an_empty_audience(client: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    # history the campaign already has (e.g. loaded by the seed) for this customer
    await db.execute(
        "INSERT INTO outbound_messages (campaign_id, customer_id, status, sent_at) VALUES (%s, %s, 'sent', now())",
        (campaign["id"], customer["id"]),
    )

    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})

    assert_error(response, 422, "AUDIENCE_EMPTY")
    assert (await detail(client, campaign["id"]))["status"] == "draft"


async def test_a_due_campaign_whose_segment_matches_nobody_fails_with_the_reason(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign = await create_campaign(
        client, scheduled_at="2099-01-01T00:00:00Z", audience={"segment": {"preferred_product": "Unsold Thing"}}
    )
    await make_due(db, campaign["id"])

    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_EMPTY")

    body = await detail(client, campaign["id"])
    assert body["status"] == "failed"
    assert body["status_reason"] == "the stored audience matched no customer when the scheduled campaign fell due"
    assert body["stats"]["total"] == 0
    due = (await client.get("/campaigns/due", params={"limit": 500})).json()["data"]
    assert campaign["id"] not in [item["id"] for item in due]


async def test_a_due_campaign_whose_stored_ids_name_an_unknown_customer_fails_once_with_the_reason(
    client: httpx.AsyncClient, db: Db
) -> None:
    known = (await create_customer(client))["id"]
    campaign = await create_campaign(
        client, scheduled_at="2099-01-01T00:00:00Z", audience={"customer_ids": [known, 987654321]}
    )
    await make_due(db, campaign["id"])

    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "UNKNOWN_CUSTOMERS")

    body = await detail(client, campaign["id"])
    assert body["status"] == "failed", "a refusal that waiting cannot change fails the due campaign"
    assert body["status_reason"].startswith("the stored audience was refused when the scheduled campaign fell due:")
    assert "987654321" in body["status_reason"]
    assert body["stats"]["total"] == 0, "nothing was queued, not even for the known customer"
    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 409, "CAMPAIGN_NOT_SENDABLE")
    due = (await client.get("/campaigns/due", params={"limit": 500})).json()["data"]
    assert campaign["id"] not in [item["id"] for item in due]


async def test_unknown_ids_given_in_the_body_of_a_due_campaign_change_nothing(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign = await create_campaign(client, scheduled_at="2099-01-01T00:00:00Z", audience={"segment": {"all": True}})
    await make_due(db, campaign["id"])
    assert_error(
        await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [987654322]}),
        422,
        "UNKNOWN_CUSTOMERS",
    )
    assert (await detail(client, campaign["id"]))["status"] == "scheduled"


async def test_a_due_campaign_without_audience_fails_with_the_reason_shown(client: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(client, scheduled_at="2099-01-01T00:00:00Z")
    await make_due(db, campaign["id"])

    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_REQUIRED")

    body = await detail(client, campaign["id"])
    assert (body["status"], body["audience"]) == ("failed", None)
    assert body["status_reason"] == "no audience was stored when the scheduled campaign fell due"
    # failed is final: it can be neither sent again nor edited
    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 409, "CAMPAIGN_NOT_SENDABLE")
    assert_error(await client.patch(f"/campaigns/{campaign['id']}", json={"name": "x"}), 409, "CAMPAIGN_NOT_EDITABLE")


async def test_a_campaign_not_yet_due_keeps_its_schedule_when_sent_without_audience(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, scheduled_at="2099-01-01T00:00:00Z")

    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_REQUIRED")

    body = await detail(client, campaign["id"])
    assert (body["status"], body["status_reason"]) == ("scheduled", None)


async def test_a_campaign_sent_normally_has_no_status_reason(client: httpx.AsyncClient) -> None:
    customer = await create_customer(client)
    campaign = await create_campaign(client, audience={"customer_ids": [customer["id"]]})
    assert (await client.post(f"/campaigns/{campaign['id']}/send")).status_code == 202
    body = await detail(client, campaign["id"])
    assert (body["status"], body["status_reason"]) == ("sending", None)
    assert body["audience"] == {"customer_ids": [customer["id"]], "segment": None}

"""POST /campaigns/{id}/send: outbox rows in one transaction, the state machine, idempotency."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.main import create_app
from campaign_api.settings import Settings
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import assert_error, create_campaign, create_customer

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def customers(client: httpx.AsyncClient, count: int, **fields: Any) -> list[int]:
    """Create customers; return their ids."""
    return [(await create_customer(client, **fields))["id"] for _ in range(count)]


async def message_rows(db: psycopg.AsyncConnection[tuple[Any, ...]], campaign_id: int) -> list[tuple[Any, ...]]:
    """(customer_id, status, published_at, traceparent) per outbox row of the campaign."""
    cur = await db.execute(
        "SELECT customer_id, status, published_at, traceparent FROM outbound_messages"
        " WHERE campaign_id = %s ORDER BY customer_id",
        (campaign_id,),
    )
    return await cur.fetchall()


async def test_send_creates_one_pending_row_per_customer_and_moves_to_sending(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 3)
    async with await psycopg.AsyncConnection.connect(str(db.info.dsn), autocommit=True) as listener:
        await listener.execute("LISTEN outbox")

        response = await client.post(
            f"/campaigns/{campaign['id']}/send",
            json={"customer_ids": [*ids, ids[0]]},  # a duplicate is sent to once
            headers={"traceparent": TRACEPARENT},
        )

        notice = await anext(listener.notifies(timeout=2.0))
    assert response.status_code == 202
    assert response.json() == {
        "campaign_id": campaign["id"],
        "messages_queued": 3,
        "status": "sending",
        "suppressed": 0,
    }
    rows = await message_rows(db, campaign["id"])
    assert [row[0] for row in rows] == sorted(ids)
    assert {row[1] for row in rows} == {"pending"}
    assert {row[2] for row in rows} == {None}  # not yet published: the relay's work
    assert {row[3] for row in rows} == {TRACEPARENT}
    assert notice.channel == "outbox"
    detail = (await client.get(f"/campaigns/{campaign['id']}")).json()
    assert detail["status"] == "sending"
    assert detail["stats"]["pending"] == 3


async def test_second_send_is_rejected_with_409(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 2)
    first = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    assert first.status_code == 202

    second = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})

    message = assert_error(second, 409, "CAMPAIGN_NOT_SENDABLE")
    assert "sending" in message


async def test_concurrent_sends_exactly_one_wins(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 20)

    answers = await asyncio.gather(
        *(client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids}) for _ in range(5))
    )

    assert sorted(answer.status_code for answer in answers) == [202, 409, 409, 409, 409]
    assert len(await message_rows(db, campaign["id"])) == 20


async def test_scheduled_campaign_can_be_sent_now(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, scheduled_at="2099-01-01T00:00:00Z")
    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": await customers(client, 1)})
    assert response.status_code == 202


async def test_unknown_customers_are_named_and_nothing_is_created(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    known = await customers(client, 2)
    unknown = list(range(900_000_000, 900_000_025))

    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [*known, *unknown]})

    message = assert_error(response, 422, "UNKNOWN_CUSTOMERS")
    assert message.startswith("25 unknown customer id(s) (first 20 shown): 900000000, 900000001")
    assert "900000019" in message and "900000020" not in message
    assert await message_rows(db, campaign["id"]) == []
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["status"] == "draft"


async def test_unknown_campaign_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/campaigns/999999999/send", json={"customer_ids": [1]}), 404, "CAMPAIGN_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [{"customer_ids": []}, {"customer_ids": [0]}, {"customer_ids": [-3]}, {"customer_ids": ["a"]}, {"ids": [1]}],
)
async def test_invalid_send_bodies_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    campaign = await create_campaign(client)
    message = assert_error(await client.post(f"/campaigns/{campaign['id']}/send", json=body), 422, "VALIDATION_ERROR")
    assert "body." in message


async def test_more_than_100000_ids_is_422(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    body = {"customer_ids": list(range(1, 100_002))}
    message = assert_error(await client.post(f"/campaigns/{campaign['id']}/send", json=body), 422, "VALIDATION_ERROR")
    assert "body.customer_ids" in message


async def test_same_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 4)
    path, headers = f"/campaigns/{campaign['id']}/send", {"Idempotency-Key": "order-7781"}

    first = await client.post(path, json={"customer_ids": ids}, headers=headers)
    again = await client.post(path, json={"customer_ids": ids}, headers=headers)

    assert first.status_code == again.status_code == 202
    assert (
        again.json()
        == first.json()
        == {
            "campaign_id": campaign["id"],
            "messages_queued": 4,
            "status": "sending",
            "suppressed": 0,
        }
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(await message_rows(db, campaign["id"])) == 4


async def test_idempotency_key_reused_with_another_body_is_422(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 3)
    path, headers = f"/campaigns/{campaign['id']}/send", {"Idempotency-Key": "k-1"}
    assert (await client.post(path, json={"customer_ids": ids}, headers=headers)).status_code == 202

    response = await client.post(path, json={"customer_ids": ids[:2]}, headers=headers)

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_concurrent_sends_with_one_key_all_get_the_same_answer(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 5)
    path, headers = f"/campaigns/{campaign['id']}/send", {"Idempotency-Key": "retry-storm"}

    answers = await asyncio.gather(*(client.post(path, json={"customer_ids": ids}, headers=headers) for _ in range(4)))

    assert {answer.status_code for answer in answers} == {202}
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 3


async def test_expired_idempotency_keys_are_purged_by_the_timer_not_by_a_send(
    settings: Settings, client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await db.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response_code, response_body, created_at)"
        " VALUES ('send:0', 'old', 'h', 202, '{}', now() - interval '25 hours')"
    )
    campaign = await create_campaign(client)
    ids = await customers(client, 1)
    headers = {"Idempotency-Key": "fresh"}
    assert (
        await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids}, headers=headers)
    ).status_code == 202
    cur = await db.execute("SELECT count(*) FROM idempotency_keys WHERE key = 'old'")
    assert await cur.fetchone() == (1,), "a send never pays for the purge"

    purging = settings.model_copy(update={"idempotency_purge_interval_s": 0.05})
    app = create_app(purging, registry=CollectorRegistry())
    async with app.router.lifespan_context(app):
        for _ in range(100):
            cur = await db.execute("SELECT key FROM idempotency_keys WHERE key IN ('old', 'fresh')")
            if [row[0] for row in await cur.fetchall()] == ["fresh"]:
                break
            await asyncio.sleep(0.05)
    cur = await db.execute("SELECT key FROM idempotency_keys WHERE key IN ('old', 'fresh')")
    assert [row[0] for row in await cur.fetchall()] == ["fresh"], "the expired key is purged, the fresh one kept"


async def test_send_without_body_uses_the_stored_segment(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    nairobi = await customers(client, 3, location="Mombasa-North", preferred_product="Yoga Mat")
    await customers(client, 2, location="Mombasa-North", preferred_product="Tea")
    campaign = await create_campaign(
        client, audience={"segment": {"location": "mombasa-north", "preferred_product": "YOGA MAT"}}
    )

    response = await client.post(f"/campaigns/{campaign['id']}/send")

    assert response.status_code == 202
    assert response.json()["messages_queued"] == 3
    assert [row[0] for row in await message_rows(db, campaign["id"])] == sorted(nairobi)


async def test_send_without_body_uses_stored_customer_ids(client: httpx.AsyncClient) -> None:
    ids = await customers(client, 2)
    campaign = await create_campaign(client, audience={"customer_ids": ids})
    response = await client.post(f"/campaigns/{campaign['id']}/send")
    assert response.json()["messages_queued"] == 2


async def test_send_without_body_or_audience_is_422(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_REQUIRED")
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["status"] == "draft"


async def test_due_campaigns_are_listed_for_the_scheduler(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client, scheduled_at="2099-01-01T00:00:00Z")
    await db.execute("UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (campaign["id"],))

    due = (await client.get("/campaigns/due", params={"limit": 500})).json()["data"]

    assert campaign["id"] in [item["id"] for item in due]
    # due without an audience: it fails for good instead of being offered on every tick
    assert_error(await client.post(f"/campaigns/{campaign['id']}/send"), 422, "AUDIENCE_REQUIRED")
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["status"] == "failed"
    assert_error(await client.get("/campaigns/due", params={"limit": 501}), 422, "VALIDATION_ERROR")

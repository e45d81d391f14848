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

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer

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
        # "Hi Test!" is one segment for each of the three customers, every one of them rendered
        "expected_segments": 1,
        "expected_segments_total": 3,
        "expected_segments_sampled": 3,
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
            "expected_segments": 1,
            "expected_segments_total": 4,
            "expected_segments_sampled": 4,
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


# 140 characters after the name: a short name keeps the message in one GSM-7 segment (160), a long one takes two,
# and a name outside GSM-7 makes it UCS-2 (67 characters per segment of a long message)
LONG_TEMPLATE = "Hi {first_name}, " + "x" * 140


async def segments_of_preview(client: httpx.AsyncClient, campaign_id: int, customer_id: int) -> int:
    """The preview's facts.segments for one customer."""
    response = await client.post(f"/campaigns/{campaign_id}/personalized-preview", json={"customer_id": customer_id})
    assert response.status_code == 200, response.text
    segments: int = response.json()["facts"]["segments"]
    return segments


async def test_send_answer_shows_the_segments_the_preview_counts_for_each_customer(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, base_template=LONG_TEMPLATE)
    names = ["Ann", "Bartholomew-Alexander Ochieng-Wekesa", "Wanjirũ"]
    ids = [(await create_customer(client, first_name=name))["id"] for name in names]
    per_customer = [await segments_of_preview(client, campaign["id"], customer_id) for customer_id in ids]
    assert per_customer == [1, 2, 3]

    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["expected_segments"], body["expected_segments_total"], body["expected_segments_sampled"]) == (
        3,
        6,
        3,
    ), "the longest message, and the exact sum when every message is rendered"


async def test_a_send_larger_than_the_sample_scales_its_first_messages(
    settings: Settings, account: KeyedAccount, client: httpx.AsyncClient
) -> None:
    campaign = await create_campaign(client, base_template=LONG_TEMPLATE)
    # the two lowest ids are the sample: one and two segments; the other three would take three each
    first = [
        (await create_customer(client, first_name=name))["id"] for name in ["Ann", "Bartholomew-Alexander Ochieng"]
    ]
    rest = [(await create_customer(client, first_name="Wanjirũ"))["id"] for _ in range(3)]
    app = create_app(settings.model_copy(update={"send_estimate_sample": 2}), registry=CollectorRegistry())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://campaign-api", headers=account.headers
        ) as small_sample,
    ):
        response = await small_sample.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": first + rest})

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["messages_queued"] == 5
    # a mean of 1.5 segments over the two rendered, times 5 messages, rounded up
    assert (body["expected_segments"], body["expected_segments_total"], body["expected_segments_sampled"]) == (2, 8, 2)


async def test_whatsapp_send_counts_one_per_message_without_rendering(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, channel="whatsapp", base_template=LONG_TEMPLATE)
    ids = await customers(client, 4)

    response = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})

    body = response.json()
    assert (body["expected_segments"], body["expected_segments_total"], body["expected_segments_sampled"]) == (1, 4, 0)


async def test_send_goes_on_without_the_estimate_when_template_svc_does_not_answer(
    settings: Settings, account: KeyedAccount, client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    ids = await customers(client, 2)
    # nothing listens on port 9: every call fails at once, as when template-svc is down
    app = create_app(settings.model_copy(update={"template_svc_addr": "127.0.0.1:9"}), registry=CollectorRegistry())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://campaign-api", headers=account.headers
        ) as without_templates,
    ):
        path, headers = f"/campaigns/{campaign['id']}/send", {"Idempotency-Key": "no-template-svc"}
        response = await without_templates.post(path, json={"customer_ids": ids}, headers=headers)
    replayed = await client.post(path, json={"customer_ids": ids}, headers=headers)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["messages_queued"] == 2
    assert (body["expected_segments"], body["expected_segments_total"], body["expected_segments_sampled"]) == (
        None,
        None,
        0,
    )
    assert replayed.json() == body, "a replay answers what was stored, even with template-svc back"
    assert len(await message_rows(db, campaign["id"])) == 2

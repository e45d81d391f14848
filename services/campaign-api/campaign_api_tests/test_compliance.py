"""Compliance through the API: the suppression list and the send, opt-outs by keyword, the account's settings, the
opt-out text rule, customers' time zones, campaigns' category and validity, and what waits for a send window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.compliance import SuppressionSource
from campaign_api.suppressions import add_suppression
from fastapi import FastAPI

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer, next_phone

OPT_OUT = "STOP*456*9*5#"


@pytest.fixture
async def other_account_client(app: FastAPI, other_account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://campaign-api", headers=other_account.headers
    ) as http:
        yield http


async def send(client: httpx.AsyncClient, campaign_id: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post(f"/campaigns/{campaign_id}/send", json=body)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def queued_customers(db: psycopg.AsyncConnection[tuple[Any, ...]], campaign_id: int) -> set[int]:
    cur = await db.execute("SELECT customer_id FROM outbound_messages WHERE campaign_id = %s", (campaign_id,))
    return {row[0] for row in await cur.fetchall()}


async def inbound(client: httpx.AsyncClient, phone: str, body: str, **fields: Any) -> httpx.Response:
    return await client.post("/inbound-messages", json={"channel": "sms", "phone": phone, "body": body, **fields})


# ---- the suppression list and the send --------------------------------------------------------------------------


async def test_a_suppressed_number_is_left_out_of_a_send_and_counted_in_its_answer(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    people = [await create_customer(client, location="Eldoret") for _ in range(3)]
    # written the way a person would, stored in E.164
    national = "0" + people[0]["phone"][4:]
    created = await client.post("/suppressions", json={"phone": national, "reason": "asked by phone"})
    assert created.status_code == 201, created.text
    assert created.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "phone": people[0]["phone"],
        "channel": None,
        "reason": "asked by phone",
        "source": "api",
        "created_at": "",
    }

    by_ids = await create_campaign(client)
    answer = await send(client, by_ids["id"], {"customer_ids": [p["id"] for p in people]})
    assert (answer["messages_queued"], answer["suppressed"]) == (2, 1)
    assert await queued_customers(db, by_ids["id"]) == {people[1]["id"], people[2]["id"]}

    by_segment = await create_campaign(client, audience={"segment": {"location": "Eldoret"}})
    answer = await send(client, by_segment["id"])
    assert (answer["messages_queued"], answer["suppressed"]) == (2, 1)
    assert people[0]["id"] not in await queued_customers(db, by_segment["id"])


async def test_a_suppression_on_one_channel_leaves_the_other_alone(client: httpx.AsyncClient) -> None:
    person = await create_customer(client)
    assert (await client.post("/suppressions", json={"phone": person["phone"], "channel": "whatsapp"})).is_success
    sms = await create_campaign(client)
    whatsapp = await create_campaign(client, channel="whatsapp")
    assert (await send(client, sms["id"], {"customer_ids": [person["id"]]}))["suppressed"] == 0
    # every recipient suppressed: nothing to queue, the send is refused and changes nothing
    refused = await client.post(f"/campaigns/{whatsapp['id']}/send", json={"customer_ids": [person["id"]]})
    assert_error(refused, 422, "AUDIENCE_EMPTY")


async def test_suppressions_are_listed_newest_first_refused_twice_and_lifted(client: httpx.AsyncClient) -> None:
    phones = [next_phone() for _ in range(3)]
    ids = [(await client.post("/suppressions", json={"phone": p})).json()["id"] for p in phones]
    assert_error(await client.post("/suppressions", json={"phone": phones[0]}), 409, "SUPPRESSION_EXISTS")
    # the same phone on one channel is a suppression of its own
    assert (await client.post("/suppressions", json={"phone": phones[0], "channel": "sms"})).status_code == 201

    first = (await client.get("/suppressions", params={"limit": 2})).json()
    assert [s["phone"] for s in first["data"]] == [phones[0], phones[2]]
    rest = (await client.get("/suppressions", params={"limit": 2, "before_id": first["next_cursor"]})).json()
    assert [s["phone"] for s in rest["data"]][:2] == [phones[1], phones[0]]
    only = (await client.get("/suppressions", params={"phone": phones[1]})).json()["data"]
    assert [s["id"] for s in only] == [ids[1]]

    lifted = await client.delete(f"/suppressions/{ids[1]}")
    assert lifted.status_code == 200 and lifted.json()["phone"] == phones[1]
    assert_error(await client.delete(f"/suppressions/{ids[1]}"), 404, "SUPPRESSION_NOT_FOUND")
    assert (await client.get("/suppressions", params={"phone": phones[1]})).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"phone": "12"}, "INVALID_PHONE"), ({"phone": "+254712000000", "channel": "email"}, "VALIDATION_ERROR")],
)
async def test_a_bad_suppression_is_422(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    assert_error(await client.post("/suppressions", json=body), 422, field)


async def test_another_account_neither_sees_nor_is_bound_by_my_suppressions(
    client: httpx.AsyncClient, other_account_client: httpx.AsyncClient
) -> None:
    phone = next_phone()
    mine = (await client.post("/suppressions", json={"phone": phone})).json()
    assert (await other_account_client.get("/suppressions", params={"phone": phone})).json()["data"] == []
    assert_error(await other_account_client.delete(f"/suppressions/{mine['id']}"), 404, "SUPPRESSION_NOT_FOUND")
    theirs = await create_customer(other_account_client, phone=phone)
    campaign = await create_campaign(other_account_client)
    assert (await send(other_account_client, campaign["id"], {"customer_ids": [theirs["id"]]}))["suppressed"] == 0


# ---- opt-out by keyword -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Stop! ", "s t o p", "S.T.O.P.", "unsubscribe", "Opt-Out", "STOP ALL"]
)
async def test_a_stop_keyword_in_any_case_spacing_or_punctuation_suppresses_the_sender(
    client: httpx.AsyncClient, text: str
) -> None:
    phone = next_phone()
    response = await inbound(client, phone, text)
    assert response.status_code == 201, response.text
    assert response.json()["opt_out"] == "stop" and response.json()["duplicate"] is False
    [suppression] = (await client.get("/suppressions", params={"phone": phone})).json()["data"]
    assert (suppression["source"], suppression["channel"]) == ("keyword", "sms")


async def test_a_message_that_only_mentions_stop_is_stored_and_does_nothing(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    response = await inbound(client, phone, "please don't stop the offers")
    assert response.status_code == 201 and response.json()["opt_out"] is None
    assert (await client.get("/suppressions", params={"phone": phone})).json()["data"] == []
    stored = (await client.get("/inbound-messages", params={"limit": 1})).json()["data"][0]
    assert (stored["phone"], stored["body"], stored["provider"]) == (phone, "please don't stop the offers", "api")


async def test_stop_then_start_leaves_the_customer_out_then_back_in(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    person = await create_customer(client)
    assert (await inbound(client, person["phone"], "STOP")).json()["opt_out"] == "stop"
    first = await create_campaign(client)
    assert (
        await client.post(f"/campaigns/{first['id']}/send", json={"customer_ids": [person["id"]]})
    ).status_code == 422

    assert (await inbound(client, person["phone"], "start")).json()["opt_out"] == "start"
    second = await create_campaign(client)
    assert (await send(client, second["id"], {"customer_ids": [person["id"]]}))["messages_queued"] == 1
    assert await queued_customers(db, second["id"]) == {person["id"]}


async def test_start_never_lifts_an_operators_suppression(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    assert (await client.post("/suppressions", json={"phone": phone, "reason": "complaint"})).status_code == 201
    await inbound(client, phone, "UNSTOP")
    assert [s["source"] for s in (await client.get("/suppressions", params={"phone": phone})).json()["data"]] == ["api"]


async def test_a_providers_repeated_message_is_stored_and_acted_on_once(client: httpx.AsyncClient) -> None:
    phone = next_phone()
    assert (await inbound(client, phone, "STOP", provider_message_id="mo-77")).status_code == 201
    [suppression] = (await client.get("/suppressions", params={"phone": phone})).json()["data"]
    await client.delete(f"/suppressions/{suppression['id']}")
    again = await inbound(client, phone, "STOP", provider_message_id="mo-77")
    assert again.status_code == 200 and again.json() == {"id": None, "duplicate": True, "opt_out": None}
    assert (await client.get("/suppressions", params={"phone": phone})).json()["data"] == []


async def test_the_accounts_own_keywords_replace_the_defaults(client: httpx.AsyncClient) -> None:
    settings = {"stop_keywords": ["ACHA", "stop"], "start_keywords": ["ANZA"]}
    assert (await client.put("/account/compliance", json=settings)).status_code == 200
    phone = next_phone()
    assert (await inbound(client, phone, "unsubscribe")).json()["opt_out"] is None
    assert (await inbound(client, phone, "Acha.")).json()["opt_out"] == "stop"
    assert (await inbound(client, phone, "START")).json()["opt_out"] is None
    assert (await inbound(client, phone, "anza")).json()["opt_out"] == "start"


async def test_a_provider_opt_out_is_a_suppression_of_source_provider(
    database_url: str, account: KeyedAccount, client: httpx.AsyncClient
) -> None:
    phone = next_phone()
    async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.account_id', %s, true)", (str(account.id),))
        added = await add_suppression(
            conn, "0" + phone[4:], None, "Africa's Talking opt-out", SuppressionSource.PROVIDER
        )
        again = await add_suppression(conn, phone, None, "repeated callback", SuppressionSource.PROVIDER)
    assert added is not None and added.phone == phone and again is None
    [listed] = (await client.get("/suppressions", params={"phone": phone})).json()["data"]
    assert listed["source"] == "provider"


# ---- the account's settings and the opt-out text rule -----------------------------------------------------------


async def test_a_new_account_has_no_window_and_no_instruction(client: httpx.AsyncClient) -> None:
    body = (await client.get("/account/compliance")).json()
    assert body["send_window"] is None and body["opt_out_text"] is None and body["updated_at"] is None
    assert body["stop_keywords"][:2] == ["STOP", "STOPALL"] and body["start_keywords"] == ["START", "UNSTOP"]


async def test_the_kenyan_preset_is_one_setting(client: httpx.AsyncClient) -> None:
    put = await client.put("/account/compliance", json={"send_window": {"preset": "ke-safaricom"}})
    assert put.status_code == 200, put.text
    window = (await client.get("/account/compliance")).json()["send_window"]
    assert window == {"preset": "ke-safaricom", "start": "08:00", "end": "18:00", "time_zone": "Africa/Nairobi"}


@pytest.mark.parametrize(
    "window",
    [
        {"start": "08:00", "end": "18:00", "time_zone": "Mars/Olympus"},
        {"start": "08:00", "end": "08:00", "time_zone": "Africa/Nairobi"},
        {"start": "08:00", "time_zone": "Africa/Nairobi"},
        {"preset": "ke-safaricom", "start": "08:00", "end": "18:00", "time_zone": "Africa/Nairobi"},
        {"preset": "mars"},
    ],
)
async def test_a_window_that_is_not_one_is_422_naming_the_field(
    client: httpx.AsyncClient, window: dict[str, Any]
) -> None:
    message = assert_error(
        await client.put("/account/compliance", json={"send_window": window}), 422, "VALIDATION_ERROR"
    )
    assert "body.send_window" in message


async def test_a_keyword_that_is_both_stop_and_start_is_422(client: httpx.AsyncClient) -> None:
    body = {"stop_keywords": ["STOP"], "start_keywords": ["stop!"]}
    assert "STOP" in assert_error(await client.put("/account/compliance", json=body), 422, "VALIDATION_ERROR")


async def test_a_promotional_sms_must_carry_the_opt_out_instruction_when_the_account_requires_it(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.put("/account/compliance", json={"opt_out_text": OPT_OUT})).status_code == 200
    missing = await client.post("/campaigns", json={"name": "n", "channel": "sms", "base_template": "Hi {first_name}"})
    message = assert_error(missing, 422, "OPT_OUT_TEXT_MISSING")
    assert OPT_OUT in message and "body.base_template" in message
    # case and spacing aside, the instruction is there
    carried = await create_campaign(client, base_template="Hi {first_name}! Opt out: stop*456*9*5#")
    # transactional SMS and WhatsApp are not held to it
    await create_campaign(client, category="transactional")
    await create_campaign(client, channel="whatsapp")

    edit = await client.patch(f"/campaigns/{carried['id']}", json={"base_template": "Hi {first_name}!"})
    assert_error(edit, 422, "OPT_OUT_TEXT_MISSING")
    customer = await create_customer(client)
    preview = await client.post(
        f"/campaigns/{carried['id']}/personalized-preview",
        json={"customer_id": customer["id"], "override_template": "Just hi"},
    )
    assert "body.override_template" in assert_error(preview, 422, "OPT_OUT_TEXT_MISSING")
    kept = await client.post(f"/campaigns/{carried['id']}/personalized-preview", json={"customer_id": customer["id"]})
    assert kept.status_code == 200


async def test_a_campaign_made_before_the_rule_is_held_to_it_when_sent(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    await client.put("/account/compliance", json={"opt_out_text": OPT_OUT})
    refused = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})
    assert_error(refused, 422, "OPT_OUT_TEXT_MISSING")
    # turned off, the rule holds nothing back, and the instruction stays on file
    off = await client.put("/account/compliance", json={"opt_out_text": OPT_OUT, "opt_out_required": False})
    assert off.json()["opt_out_text"] == OPT_OUT
    assert (await send(client, campaign["id"], {"customer_ids": [customer["id"]]}))["messages_queued"] == 1


# ---- customers' zones, campaigns' category and validity, what waits -----------------------------------------------


async def test_a_customer_has_an_optional_iana_time_zone(client: httpx.AsyncClient) -> None:
    lagos = await create_customer(client, time_zone="Africa/Lagos")
    assert lagos["time_zone"] == "Africa/Lagos"
    assert (await client.get(f"/customers/{lagos['id']}")).json()["time_zone"] == "Africa/Lagos"
    assert (await create_customer(client))["time_zone"] is None
    bad = await client.post("/customers", json={"phone": next_phone(), "time_zone": "Nairobi"})
    assert "body.time_zone" in assert_error(bad, 422, "VALIDATION_ERROR")


async def test_a_campaign_has_a_category_and_a_validity(client: httpx.AsyncClient) -> None:
    default = await create_campaign(client)
    assert (default["category"], default["validity_hours"]) == ("promotional", 24)
    otp = await create_campaign(client, category="transactional", validity_hours=2)
    assert (otp["category"], otp["validity_hours"]) == ("transactional", 2)
    patched = await client.patch(f"/campaigns/{otp['id']}", json={"validity_hours": 6, "category": "promotional"})
    assert (patched.json()["category"], patched.json()["validity_hours"]) == ("promotional", 6)
    listed = (await client.get("/campaigns", params={"page_size": 5})).json()["data"]
    assert {c["id"]: c["category"] for c in listed}[otp["id"]] == "promotional"
    for bad in ({"validity_hours": 0}, {"validity_hours": 721}, {"category": "political"}, {"category": None}):
        assert_error(await client.patch(f"/campaigns/{otp['id']}", json=bad), 422, "VALIDATION_ERROR")
        created = await client.post("/campaigns", json={"name": "n", "channel": "sms", "base_template": "Hi", **bad})
        assert_error(created, 422, "VALIDATION_ERROR")


async def test_the_campaign_detail_says_how_many_messages_wait_for_the_window_and_until_when(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    campaign = await create_campaign(client)
    people = [await create_customer(client) for _ in range(3)]
    await send(client, campaign["id"], {"customer_ids": [p["id"] for p in people]})
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["waiting"] == {"count": 0, "until": None}
    # what the worker's gate does outside the window: back to the outbox until the window opens
    opening = (datetime.now(UTC) + timedelta(hours=9)).replace(microsecond=0)
    await db.execute(
        "UPDATE outbound_messages SET not_before = %s, published_at = NULL"
        " WHERE campaign_id = %s AND customer_id <> %s",
        (opening, campaign["id"], people[0]["id"]),
    )
    waiting = (await client.get(f"/campaigns/{campaign['id']}")).json()["waiting"]
    assert waiting["count"] == 2
    assert datetime.fromisoformat(waiting["until"]) == opening

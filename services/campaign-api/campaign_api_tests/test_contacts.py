"""Contacts at scale: CSV imports as jobs, custom attributes, saved segments, edit, erase and export."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.domain import AttributeFilter, Segment
from campaign_api.main import create_app
from campaign_api.repositories.customers import COUNT_SEGMENT, segment_ids
from campaign_api.settings import Settings
from prometheus_client import CollectorRegistry
from psycopg import sql

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer

_numbers = itertools.count(1)


def kenyan_mobile() -> str:
    """A fresh Kenyan mobile written the local way (07..), in a range no other test uses."""
    return f"0799{next(_numbers):06d}"


def e164(local: str) -> str:
    return "+254" + local[1:]


async def upload(client: httpx.AsyncClient, text: str, name: str = "customers.csv") -> httpx.Response:
    """POST /customers/imports with the CSV as a multipart file."""
    return await client.post("/customers/imports", files={"file": (name, text.encode(), "text/csv")})


async def finished(client: httpx.AsyncClient, import_id: int) -> dict[str, Any]:
    """Poll the job until it is done or failed (generous deadline: the machine may be busy)."""
    async with asyncio.timeout(120):
        while True:
            response = await client.get(f"/customers/imports/{import_id}")
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in ("done", "failed"):
                return job
            await asyncio.sleep(0.05)


async def imported(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    """Upload and wait for the job's outcome."""
    response = await upload(client, text)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return await finished(client, response.json()["id"])


async def customer_by_phone(db: psycopg.AsyncConnection[tuple[Any, ...]], phone: str) -> tuple[Any, ...] | None:
    cur = await db.execute(
        "SELECT first_name, last_name, location, attributes FROM customers WHERE phone = %s AND account_id ="
        " current_setting('app.account_id')::bigint",
        (phone,),
    )
    return await cur.fetchone()


async def test_a_mixed_file_imports_the_valid_rows_and_reports_the_others(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    good, dup, other = kenyan_mobile(), kenyan_mobile(), kenyan_mobile()
    text = (
        "Phone,First_Name,last_name,location\n"
        f"{good},Wanjirũ,Kamau,Nairobi\n"
        "12345,Bad,Phone,Mombasa\n"
        f"{dup},Zoë,Øster,Kisumu\n"
        f"{e164(dup)},Later,Duplicate,Nakuru\n"
        f"{other},Only,Three\n"
        f"{other},José,,Eldoret\n"
        ",No,Phone,Thika\n"
    )
    job = await imported(client, text)
    assert job["status"] == "done", job
    assert job["rows_read"] == 7
    assert job["rows_imported"] == 3
    assert job["rows_updated"] == 0
    assert job["rows_rejected"] == 4
    rejected = {(r["row"], r["column"]) for r in job["rejected"]}
    assert rejected == {(3, "phone"), (5, "phone"), (6, ""), (8, "phone")}
    reasons = {r["row"]: r["reason"] for r in job["rejected"]}
    assert "same phone as row 4" in reasons[5]
    assert "not a valid phone number" in reasons[3] or "not a phone number" in reasons[3]
    assert await customer_by_phone(db, e164(good)) == ("Wanjirũ", "Kamau", "Nairobi", {})
    assert await customer_by_phone(db, e164(dup)) == ("Zoë", "Øster", "Kisumu", {})
    # an empty cell stores nothing
    assert await customer_by_phone(db, e164(other)) == ("José", None, "Eldoret", {})


async def test_importing_the_same_file_twice_changes_nothing_and_counts_only_real_changes(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    first, second = kenyan_mobile(), kenyan_mobile()
    text = f"phone,first_name,location\n{first},Amina,Nairobi\n{second},Baraka,Kisumu\n"
    once = await imported(client, text)
    assert (once["rows_imported"], once["rows_updated"], once["rows_rejected"]) == (2, 0, 0)
    twice = await imported(client, text)
    assert (twice["status"], twice["rows_read"], twice["rows_imported"], twice["rows_updated"]) == ("done", 2, 0, 0)
    # one row changes its location; the other, with an empty first_name cell, keeps what it had
    changed = await imported(client, f"phone,first_name,location\n{first},Amina,Mombasa\n{second},,Kisumu\n")
    assert (changed["rows_imported"], changed["rows_updated"]) == (0, 1)
    assert await customer_by_phone(db, e164(first)) == ("Amina", None, "Mombasa", {})
    assert await customer_by_phone(db, e164(second)) == ("Baraka", None, "Kisumu", {})


async def test_quoted_cells_are_stored_exactly_as_the_file_wrote_them(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    comma, quote, lines = kenyan_mobile(), kenyan_mobile(), kenyan_mobile()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["phone", "first_name", "last_name", "location"])
    writer.writerow([comma, "Kamau, Jr.", "N", "Nairobi"])
    writer.writerow([quote, 'The "Boss"', "\\N", "Mombasa"])
    writer.writerow([lines, "two\nlines", "\\.", "a\n\\.\nb"])
    job = await imported(client, buffer.getvalue())
    assert (job["status"], job["rows_imported"], job["rows_rejected"]) == ("done", 3, 0), job
    assert await customer_by_phone(db, e164(comma)) == ("Kamau, Jr.", "N", "Nairobi", {})
    assert await customer_by_phone(db, e164(quote)) == ('The "Boss"', "\\N", "Mombasa", {})
    assert await customer_by_phone(db, e164(lines)) == ("two\nlines", "\\.", "a\n\\.\nb", {})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("first_name,location\nAmina,Nairobi\n", "no phone column"),
        ("phone,favourite_colour\n0712345678,blue\n", "favourite_colour"),
        ("phone,phone\n0712345678,0712345679\n", "appears twice"),
        ("", "empty"),
    ],
)
async def test_a_file_whose_header_cannot_be_mapped_is_refused_at_once(
    client: httpx.AsyncClient, text: str, reason: str
) -> None:
    message = assert_error(await upload(client, text), 422, "IMPORT_FILE_INVALID")
    assert reason in message


async def test_a_body_that_is_not_a_multipart_file_is_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/customers/imports", json={"phone": "0712345678"}), 422, "IMPORT_FILE_INVALID")
    response = await client.post("/customers/imports", files={"other": ("a.csv", b"phone\n", "text/csv")})
    assert_error(response, 422, "IMPORT_FILE_INVALID")


@pytest.fixture
async def small_limits_client(settings: Settings, account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    """The app with an import limit of 2 KiB and 3 rows."""
    limited = settings.model_copy(update={"import_max_bytes": 2048, "import_max_rows": 3, "import_workers": 0})
    app = create_app(limited, registry=CollectorRegistry())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=account.headers) as http:
            yield http


async def test_files_over_the_limits_answer_413_and_422(small_limits_client: httpx.AsyncClient) -> None:
    too_big = "phone,first_name\n" + "".join(f"{kenyan_mobile()},{'x' * 100}\n" for _ in range(30))
    message = assert_error(await upload(small_limits_client, too_big), 413, "PAYLOAD_TOO_LARGE")
    assert "2048 bytes" in message
    too_long = "phone\n" + "".join(f"{kenyan_mobile()}\n" for _ in range(4))
    assert_error(await upload(small_limits_client, too_long), 422, "IMPORT_TOO_MANY_ROWS")
    just_right = "phone\n" + "".join(f"{kenyan_mobile()}\n" for _ in range(3))
    response = await upload(small_limits_client, just_right)
    assert response.status_code == 202, response.text
    job = await finished(small_limits_client, response.json()["id"])
    assert (job["status"], job["rows_imported"]) == ("done", 3)


async def test_an_import_of_another_account_is_404(
    client: httpx.AsyncClient, settings: Settings, other_account: KeyedAccount
) -> None:
    job = await imported(client, f"phone\n{kenyan_mobile()}\n")
    other = httpx.AsyncClient(
        transport=client._transport, base_url="http://campaign-api", headers=other_account.headers
    )
    async with other:
        assert_error(await other.get(f"/customers/imports/{job['id']}"), 404, "CUSTOMER_IMPORT_NOT_FOUND")


async def test_attributes_are_declared_validated_and_imported(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    for name, kind in (("card_tier", "text"), ("card_points", "number"), ("is_vip", "boolean"), ("joined_on", "date")):
        response = await client.post("/customer-attributes", json={"name": name, "type": kind})
        assert response.status_code == 201, response.text
    assert_error(
        await client.post("/customer-attributes", json={"name": "card_tier", "type": "text"}), 409, "ATTRIBUTE_EXISTS"
    )
    listed = (await client.get("/customer-attributes")).json()["data"]
    expected = {("card_tier", "text"), ("card_points", "number"), ("is_vip", "boolean")}
    assert {(a["name"], a["type"]) for a in listed} >= expected

    made = await create_customer(client, attributes={"card_tier": "gold", "card_points": 120, "is_vip": True})
    assert made["attributes"] == {"card_tier": "gold", "card_points": 120, "is_vip": True}
    message = assert_error(
        await client.post("/customers", json={"phone": kenyan_mobile(), "attributes": {"card_points": "many"}}),
        422,
        "INVALID_ATTRIBUTES",
    )
    assert "card_points: must be a number" in message
    unknown = await client.post("/customers", json={"phone": kenyan_mobile(), "attributes": {"shoe_size": 42}})
    assert "shoe_size" in assert_error(unknown, 422, "INVALID_ATTRIBUTES")

    silver, bronze, bad = kenyan_mobile(), kenyan_mobile(), kenyan_mobile()
    job = await imported(
        client,
        "phone,card_tier,card_points,is_vip,joined_on\n"
        f"{silver},silver,75.5,yes,2024-02-29\n"
        f"{bronze},bronze,10,no,2023-01-15\n"
        f"{bad},gold,lots,true,2024-01-01\n",
    )
    assert (job["rows_imported"], job["rows_rejected"]) == (2, 1)
    assert job["rejected"][0]["column"] == "card_points"
    row = await customer_by_phone(db, e164(silver))
    assert row is not None
    assert row[3] == {"card_tier": "silver", "card_points": 75.5, "is_vip": True, "joined_on": "2024-02-29"}


async def test_segments_filter_on_attributes_and_count_before_sending(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    for name, kind in (("plan_name", "text"), ("spend_total", "number"), ("renewal_on", "date")):
        assert (await client.post("/customer-attributes", json={"name": name, "type": kind})).status_code == 201
    rows = [("basic", 5, "2025-01-10"), ("pro", 50, "2025-03-01"), ("pro", 500, "2025-06-30"), ("team", 80, None)]
    ids = []
    for plan_name, spend_total, renewal_on in rows:
        attributes: dict[str, Any] = {"plan_name": plan_name, "spend_total": spend_total}
        if renewal_on:
            attributes["renewal_on"] = renewal_on
        ids.append((await create_customer(client, location="Segmentville", attributes=attributes))["id"])

    async def count(definition: dict[str, Any]) -> int:
        name = f"segment {next(_numbers)}"
        response = await client.post("/segments", json={"name": name, "definition": definition})
        assert response.status_code == 201, response.text
        counted = await client.get(f"/segments/{response.json()['id']}/count")
        assert counted.status_code == 200, counted.text
        return int(counted.json()["customers"])

    here = {"location": "segmentville"}
    assert await count(here) == 4
    assert await count(here | {"attributes": [{"name": "plan_name", "equals": "pro"}]}) == 2
    assert await count(here | {"attributes": [{"name": "plan_name", "one_of": ["basic", "team"]}]}) == 2
    assert await count(here | {"attributes": [{"name": "spend_total", "min": 50, "max": 100}]}) == 2
    assert await count(here | {"attributes": [{"name": "renewal_on", "min": "2025-02-01"}]}) == 2
    both = [{"name": "plan_name", "equals": "pro"}, {"name": "renewal_on", "max": "2025-04-01"}]
    assert await count(here | {"attributes": both}) == 1

    range_on_text = {"name": "x", "definition": here | {"attributes": [{"name": "plan_name", "min": 1}]}}
    assert "a range needs" in assert_error(
        await client.post("/segments", json=range_on_text), 422, "INVALID_ATTRIBUTES"
    )
    listed = (await client.get("/segments")).json()["data"]
    assert listed[0]["definition"]["attributes"] == both

    # a saved segment is a campaign's audience: the send goes to its customers
    saved = (
        await client.post(
            "/segments",
            json={"name": "pro plans", "definition": here | {"attributes": [{"name": "plan_name", "equals": "pro"}]}},
        )
    ).json()
    campaign = await create_campaign(client, audience={"segment_id": saved["id"]})
    sent = await client.post(f"/campaigns/{campaign['id']}/send")
    assert sent.status_code == 202, sent.text
    assert sent.json()["messages_queued"] == 2
    cur = await db.execute("SELECT customer_id FROM outbound_messages WHERE campaign_id = %s", (campaign["id"],))
    assert sorted(row[0] for row in await cur.fetchall()) == sorted(ids[1:3])


async def range_plan(database_url: str, account_id: int, segment: Segment) -> str:
    """The plan of the segment's count as the API runs it (campaign_app, the account bound), sequential scans
    priced out so a small table is planned as a million-row one would be."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE campaign_app")
        await conn.execute("SELECT set_config('app.account_id', %s, true)", (str(account_id),))
        await conn.execute("SET LOCAL enable_seqscan = off")
        ids, params = segment_ids(segment)
        statement = sql.SQL("EXPLAIN ") + sql.SQL(COUNT_SEGMENT).format(ids=ids)
        cur = await conn.execute(statement, params)
        return "\n".join(str(row[0]) for row in await cur.fetchall())


async def test_number_and_date_ranges_follow_every_write_and_are_served_by_indexes(
    client: httpx.AsyncClient, account: KeyedAccount, database_url: str
) -> None:
    for name, kind in (("visit_total", "number"), ("first_seen_on", "date"), ("visit_note", "text")):
        assert (await client.post("/customer-attributes", json={"name": name, "type": kind})).status_code == 201
    made = [
        await create_customer(client, attributes={"visit_total": total, "first_seen_on": day, "visit_note": "x"})
        for total, day in ((3, "2024-01-05"), (12.5, "2024-03-01"), (40, "2024-07-20"))
    ]
    local = kenyan_mobile()
    job = await imported(client, f"phone,visit_total,first_seen_on\n{local},15,2024-02-10\n")
    assert job["rows_imported"] == 1

    async def count(condition: dict[str, Any]) -> int:
        definition = {"attributes": [condition]}
        response = await client.post("/segments", json={"name": f"range {next(_numbers)}", "definition": definition})
        assert response.status_code == 201, response.text
        return int((await client.get(f"/segments/{response.json()['id']}/count")).json()["customers"])

    assert await count({"name": "visit_total", "min": 10, "max": 20}) == 2  # 12.5 (created) and 15 (imported)
    assert await count({"name": "visit_total", "min": 12.5}) == 3
    assert await count({"name": "first_seen_on", "min": "2024-02-01", "max": "2024-06-30"}) == 2
    # a PATCH moves the customer out of the range, an erasure removes it; a re-import changes nothing
    patched = await client.patch(f"/customers/{made[1]['id']}", json={"attributes": {"visit_total": 99}})
    assert patched.status_code == 200, patched.text
    assert (await client.delete(f"/customers/{made[2]['id']}")).status_code == 204
    assert await count({"name": "visit_total", "min": 10, "max": 20}) == 1
    assert await count({"name": "visit_total", "min": 12.5}) == 2
    assert await count({"name": "first_seen_on", "min": "2024-02-01", "max": "2024-06-30"}) == 2
    patched = await client.patch(f"/customers/{made[1]['id']}", json={"attributes": {"first_seen_on": None}})
    assert await count({"name": "first_seen_on", "min": "2024-02-01", "max": "2024-06-30"}) == 1
    # an import that changes a known customer's value moves it too
    again = await imported(client, f"phone,visit_total\n{local},25\n")
    assert (again["rows_imported"], again["rows_updated"]) == (0, 1)
    assert await count({"name": "visit_total", "min": 10, "max": 20}) == 0
    assert await count({"name": "visit_total", "min": 20, "max": 30}) == 1

    # the bounds are the index's conditions, not a filter applied row by row after it
    numbers = Segment(attributes=(AttributeFilter("visit_total", min=10, max=20),))
    plan = await range_plan(database_url, account.id, numbers)
    assert "customer_attribute_values_number_idx" in plan, plan
    assert re.search(r"Index Cond: .*number >= .*number <= ", plan), plan
    days = Segment(attributes=(AttributeFilter("first_seen_on", min="2024-02-01", max="2024-06-30"),))
    plan = await range_plan(database_url, account.id, days)
    assert "customer_attribute_values_day_idx" in plan, plan
    assert re.search(r"Index Cond: .*day >= .*day <= ", plan), plan


async def test_patch_changes_only_the_fields_given(client: httpx.AsyncClient) -> None:
    assert (await client.post("/customer-attributes", json={"name": "alias_name", "type": "text"})).status_code == 201
    customer = await create_customer(client, first_name="Amina", last_name="Otieno", location="Nairobi")
    response = await client.patch(
        f"/customers/{customer['id']}", json={"location": None, "attributes": {"alias_name": "Ami"}}
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["first_name"], patched["last_name"], patched["location"]) == ("Amina", "Otieno", None)
    assert patched["attributes"] == {"alias_name": "Ami"}
    removed = await client.patch(f"/customers/{customer['id']}", json={"attributes": {"alias_name": None}})
    assert removed.json()["attributes"] == {}
    taken = await create_customer(client)
    clash = await client.patch(f"/customers/{customer['id']}", json={"phone": taken["phone"]})
    assert_error(clash, 409, "CUSTOMER_PHONE_EXISTS")
    assert_error(await client.patch(f"/customers/{customer['id']}", json={"phone": "123"}), 422, "INVALID_PHONE")
    assert_error(await client.patch("/customers/987654321", json={"first_name": "X"}), 404, "CUSTOMER_NOT_FOUND")


async def test_patch_sets_and_clears_the_time_zone(client: httpx.AsyncClient) -> None:
    customer = await create_customer(client, first_name="Baraka", location="Kisumu")
    assert customer["time_zone"] is None
    response = await client.patch(f"/customers/{customer['id']}", json={"time_zone": "Africa/Lagos"})
    assert response.status_code == 200, response.text
    assert (response.json()["time_zone"], response.json()["first_name"]) == ("Africa/Lagos", "Baraka")
    assert (await client.get(f"/customers/{customer['id']}")).json()["time_zone"] == "Africa/Lagos"
    # a PATCH of another field keeps the zone; null clears it (the account's zone applies again)
    kept = await client.patch(f"/customers/{customer['id']}", json={"location": "Nairobi"})
    assert (kept.json()["time_zone"], kept.json()["location"]) == ("Africa/Lagos", "Nairobi")
    cleared = await client.patch(f"/customers/{customer['id']}", json={"time_zone": None})
    assert cleared.status_code == 200, cleared.text
    assert (await client.get(f"/customers/{customer['id']}")).json()["time_zone"] is None
    for bad in ("Nairobi", "Mars/Olympus", ""):
        refused = await client.patch(f"/customers/{customer['id']}", json={"time_zone": bad})
        assert "body.time_zone" in assert_error(refused, 422, "VALIDATION_ERROR")
    latest = (await client.get("/audit-events", params={"limit": 1})).json()["data"][0]
    assert (latest["action"], latest["target_id"], latest["changes"]) == (
        "customer.updated",
        customer["id"],
        {"fields": ["time_zone"]},
    )


async def test_erasure_removes_the_person_and_keeps_the_campaign_counts(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    person = await create_customer(client, first_name="Erase", last_name="Me", location="Nairobi")
    kept = await create_customer(client, first_name="Keep")
    campaign = await create_campaign(client)
    sent = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [person["id"], kept["id"]]})
    assert sent.status_code == 202, sent.text
    await db.execute(
        "UPDATE outbound_messages SET status = 'sent', sent_at = now(), rendered_content = 'Hi Erase!'"
        " WHERE campaign_id = %s",
        (campaign["id"],),
    )
    before = (await client.get(f"/campaigns/{campaign['id']}")).json()["stats"]
    waiting = await create_campaign(client)
    queued = await client.post(f"/campaigns/{waiting['id']}/send", json={"customer_ids": [person["id"]]})
    assert queued.status_code == 202, queued.text

    response = await client.delete(f"/customers/{person['id']}")
    assert response.status_code == 204, response.text

    assert_error(await client.get(f"/customers/{person['id']}"), 404, "CUSTOMER_NOT_FOUND")
    assert_error(await client.delete(f"/customers/{person['id']}"), 404, "CUSTOMER_NOT_FOUND")
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["stats"] == before
    # nobody is left to send the waiting message to: it ends cancelled, still counted in its campaign's total
    waiting_stats = (await client.get(f"/campaigns/{waiting['id']}")).json()["stats"]
    assert (waiting_stats["total"], waiting_stats["pending"], waiting_stats["cancelled"]) == (1, 0, 1)
    cur = await db.execute(
        "SELECT customer_id, rendered_content FROM outbound_messages WHERE campaign_id = %s ORDER BY customer_id",
        (campaign["id"],),
    )
    assert await cur.fetchall() == [(person["id"], None), (kept["id"], "Hi Erase!")]
    cur = await db.execute(
        "SELECT phone, first_name, last_name, location, erased_at IS NOT NULL FROM customers WHERE id = %s",
        (person["id"],),
    )
    assert await cur.fetchone() == (None, None, None, None, True)
    events = (await client.get("/audit-events")).json()["data"]
    assert any(e["action"] == "customer.erased" and e["target_id"] == person["id"] for e in events)
    # the phone is free again: the same person may come back as a new customer
    again = await client.post("/customers", json={"phone": person["phone"]})
    assert again.status_code == 201, again.text


async def test_export_round_trips_into_an_import(
    client: httpx.AsyncClient, other_account: KeyedAccount, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    response = await client.get("/customers/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(response.text)))
    assert exported, "the session's account has customers by now"
    assert list(exported[0])[:5] == ["phone", "first_name", "last_name", "location", "preferred_product"]
    assert all(row["phone"] for row in exported), "erased customers are not exported"

    other = httpx.AsyncClient(
        transport=client._transport, base_url="http://campaign-api", headers=other_account.headers
    )
    async with other:
        for name in [
            column
            for column in exported[0]
            if column not in ("phone", "first_name", "last_name", "location", "preferred_product")
        ]:
            kind = (
                await db.execute(
                    "SELECT type FROM customer_attributes WHERE name = %s AND account_id ="
                    " current_setting('app.account_id')::bigint",
                    (name,),
                )
            ).fetchone
            row = await kind()
            assert row is not None
            declared = await other.post("/customer-attributes", json={"name": name, "type": row[0]})
            assert declared.status_code in (201, 409), declared.text
        job = await imported(other, response.text)
        assert job["status"] == "done", job
        assert (job["rows_read"], job["rows_imported"], job["rows_rejected"]) == (len(exported), len(exported), 0)
        again = await other.get("/customers/export")
    # the other account may hold customers of other tests: every exported row, header included, is among its own
    theirs = {tuple(row) for row in csv.reader(io.StringIO(again.text))}
    assert {tuple(row) for row in csv.reader(io.StringIO(response.text))} <= theirs


async def test_a_declared_attribute_is_a_placeholder_in_campaigns_and_previews(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/campaigns", json={"name": "c", "channel": "sms", "base_template": "Hi {first_name}, {loyalty_level} perks"}
    )
    message = assert_error(unknown, 422, "INVALID_TEMPLATE")
    assert "{loyalty_level} at position 17" in message
    assert (
        await client.post("/customer-attributes", json={"name": "loyalty_level", "type": "number"})
    ).status_code == 201
    campaign = await create_campaign(client, base_template="Hi {first_name}, level {loyalty_level|0} perks")
    levelled = await create_customer(client, first_name="Amina", attributes={"loyalty_level": 3})
    plain = await create_customer(client, first_name="Baraka")
    texts = []
    for customer in (levelled, plain):
        preview = await client.post(
            f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": customer["id"]}
        )
        assert preview.status_code == 200, preview.text
        texts.append(preview.json()["rendered_message"])
    assert texts == ["Hi Amina, level 3 perks", "Hi Baraka, level 0 perks"]

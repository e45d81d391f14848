"""GET /campaigns and GET /customers: offset pages, filters, and the before_id keyset cursor."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from campaign_api_tests.factories import assert_error, create_customer

pytestmark = pytest.mark.usefixtures("empty_db")


async def insert_campaigns(db: psycopg.AsyncConnection[tuple[Any, ...]], count: int) -> None:
    """Many campaigns in one statement: channels alternate, every third is scheduled."""
    await db.execute(
        """
        INSERT INTO campaigns (name, channel, status, base_template, scheduled_at)
        SELECT 'c' || n, CASE WHEN n %% 2 = 0 THEN 'sms' ELSE 'whatsapp' END,
               CASE WHEN n %% 3 = 0 THEN 'scheduled' ELSE 'draft' END, 'Hi {first_name}',
               CASE WHEN n %% 3 = 0 THEN now() + interval '1 day' END
        FROM generate_series(1, %s) AS n
        """,
        (count,),
    )


async def fetch_all_pages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Walk offset pages until the last one."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (await client.get("/campaigns", params={**params, "page": page})).json()
        rows.extend(body["data"])
        if page >= body["pagination"]["total_pages"]:
            return rows
        page += 1


async def test_pages_have_no_duplicates_and_are_newest_first(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await insert_campaigns(db, 57)

    first = (await client.get("/campaigns", params={"page_size": 20})).json()
    rows = await fetch_all_pages(client, page_size=20)

    assert first["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total_count": 57,
        "total_pages": 3,
        "next_cursor": first["data"][-1]["id"],
    }
    ids = [row["id"] for row in rows]
    assert len(ids) == 57 == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    assert set(first["data"][0]) == {"id", "name", "channel", "status", "created_at", "category"}


async def test_filters_are_applied_on_every_page(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await insert_campaigns(db, 60)

    sms = await fetch_all_pages(client, page_size=7, channel="sms")
    scheduled_sms = await fetch_all_pages(client, page_size=3, channel="sms", status="scheduled")

    assert len(sms) == 30 and {row["channel"] for row in sms} == {"sms"}
    assert len(scheduled_sms) == 10
    assert {(row["channel"], row["status"]) for row in scheduled_sms} == {("sms", "scheduled")}
    assert [row["id"] for row in scheduled_sms] == sorted((row["id"] for row in scheduled_sms), reverse=True)


async def test_campaigns_created_between_pages_neither_duplicate_nor_hide_rows(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await insert_campaigns(db, 25)
    first = (await client.get("/campaigns", params={"page_size": 10})).json()
    seen = [row["id"] for row in first["data"]]
    bound = seen[0] + 1  # the snapshot the client pages through: ids below the newest it saw

    await insert_campaigns(db, 5)  # newer campaigns arrive while the client reads
    rest: list[int] = []
    for page in (2, 3):
        body = (await client.get("/campaigns", params={"page_size": 10, "page": page, "before_id": bound})).json()
        rest.extend(row["id"] for row in body["data"])

    all_ids = seen + rest
    assert len(all_ids) == 25 == len(set(all_ids))
    assert all_ids == list(range(25, 0, -1))


async def test_keyset_cursor_walks_every_row_once(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await insert_campaigns(db, 45)
    walked: list[int] = []
    cursor: int | None = None
    for _ in range(10):
        params: dict[str, Any] = {"page_size": 20, "channel": "whatsapp"}
        if cursor is not None:
            params["before_id"] = cursor
        body = (await client.get("/campaigns", params=params)).json()
        walked.extend(row["id"] for row in body["data"])
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
        await insert_campaigns(db, 2)  # new rows land above the cursor and never disturb the walk

    assert walked == list(range(45, 0, -2))


async def test_page_beyond_the_end_is_empty(
    client: httpx.AsyncClient, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    await insert_campaigns(db, 3)
    body = (await client.get("/campaigns", params={"page": 5})).json()
    assert body["data"] == []
    assert body["pagination"]["total_count"] == 3
    assert body["pagination"]["next_cursor"] is None


async def test_empty_listing(client: httpx.AsyncClient) -> None:
    body = (await client.get("/campaigns")).json()
    assert body == {
        "data": [],
        "pagination": {"page": 1, "page_size": 20, "total_count": 0, "total_pages": 0, "next_cursor": None},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "query.page_size"),
        ({"page_size": 0}, "query.page_size"),
        ({"page": 0}, "query.page"),
        ({"page": "two"}, "query.page"),
        ({"channel": "email"}, "query.channel"),
        ({"status": "done"}, "query.status"),
        ({"before_id": -1}, "query.before_id"),
    ],
)
async def test_invalid_listing_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    for path in ("/campaigns", "/customers"):
        if path == "/customers" and field in {"query.channel", "query.status"}:
            continue
        message = assert_error(await client.get(path, params=params), 422, "VALIDATION_ERROR")
        assert field in message


async def test_customers_paginate_newest_first_with_a_cursor(client: httpx.AsyncClient) -> None:
    created = [(await create_customer(client))["id"] for _ in range(7)]

    first = (await client.get("/customers", params={"page_size": 3})).json()
    second = (await client.get("/customers", params={"page_size": 3, "page": 2})).json()
    walked = (
        await client.get("/customers", params={"page_size": 3, "before_id": first["pagination"]["next_cursor"]})
    ).json()

    assert [c["id"] for c in first["data"]] == created[::-1][:3]
    assert [c["id"] for c in second["data"]] == created[::-1][3:6]
    assert walked["data"] == second["data"]
    assert first["pagination"]["total_count"] == 7 and first["pagination"]["total_pages"] == 3

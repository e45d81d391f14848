"""A send answers before its messages exist: the first chunk is created with the answer, the rest after it, chunk by
chunk, resumably and never twice; the detail shows the progress; the campaign does not complete meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.main import create_app, open_pool, open_system_pool
from campaign_api.repositories import audience_expansions
from campaign_api.settings import Settings
from campaign_api.usecases.expand_audiences import ExpandAudiences
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer

Db = psycopg.AsyncConnection[tuple[Any, ...]]
CHUNK = 3


@pytest.fixture
def chunked(settings: Settings) -> Settings:
    """Chunks of 3 and no expansion loop of the app's own: each test drives the expansion itself."""
    return settings.model_copy(update={"expansion_chunk_size": CHUNK, "expansion_enabled": False})


@pytest.fixture
async def client3(chunked: Settings, account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(chunked, registry=CollectorRegistry())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://campaign-api", headers=account.headers
        ) as http,
    ):
        yield http


@pytest.fixture
async def expander(chunked: Settings) -> AsyncIterator[ExpandAudiences]:
    pool, system_pool = open_pool(chunked), open_system_pool(chunked)
    await pool.open()
    await system_pool.open()
    try:
        yield ExpandAudiences(pool, system_pool, CHUNK)
    finally:
        await pool.close()
        await system_pool.close()


async def messaged(db: Db, campaign_id: int) -> list[int]:
    """The customer ids of the campaign's messages, duplicates kept."""
    cur = await db.execute(
        "SELECT customer_id FROM outbound_messages WHERE campaign_id = %s ORDER BY customer_id", (campaign_id,)
    )
    return [int(r[0]) for r in await cur.fetchall()]


async def detail(client: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    response = await client.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def complete(db: Db, campaign_id: int) -> str:
    """End every message sent, run the completion rule, and answer the campaign's status."""
    await db.execute(
        "UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE campaign_id = %s", (campaign_id,)
    )
    await db.execute("SELECT complete_campaigns(ARRAY[%s]::bigint[])", (campaign_id,))
    cur = await db.execute("SELECT status FROM campaigns WHERE id = %s", (campaign_id,))
    row = await cur.fetchone()
    return str(row[0]) if row else ""


async def test_a_send_answers_with_the_audience_and_the_messages_follow_in_chunks(
    client3: httpx.AsyncClient, db: Db, expander: ExpandAudiences, account: KeyedAccount
) -> None:
    ids = [(await create_customer(client3))["id"] for _ in range(10)]
    campaign = await create_campaign(client3)

    response = await client3.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [*ids, ids[0]]})

    assert response.status_code == 202
    assert response.json()["messages_queued"] == 10
    assert await messaged(db, campaign["id"]) == sorted(ids)[:CHUNK]  # the first chunk came with the answer
    body = await detail(client3, campaign["id"])
    assert body["expansion"] == {"audience_size": 10, "created": CHUNK, "finished": False}
    assert body["stats"]["total"] == CHUNK
    assert await complete(db, campaign["id"]) == "sending", "no completion while messages are still to be created"

    assert await expander.expand_chunk(account.id, campaign["id"]) is True
    assert (await detail(client3, campaign["id"]))["expansion"]["created"] == 2 * CHUNK
    await expander.run_until_done()

    assert await messaged(db, campaign["id"]) == sorted(ids)
    body = await detail(client3, campaign["id"])
    assert body["expansion"] == {"audience_size": 10, "created": 10, "finished": True}
    assert body["stats"]["total"] == 10
    assert await complete(db, campaign["id"]) == "sent"


async def test_a_stored_segment_expands_up_to_the_customers_of_the_acceptance(
    client3: httpx.AsyncClient, db: Db, expander: ExpandAudiences
) -> None:
    product = "Expansion Widget"
    ids = [(await create_customer(client3, preferred_product=product))["id"] for _ in range(7)]
    await create_customer(client3, preferred_product="Something Else")
    campaign = await create_campaign(client3, audience={"segment": {"preferred_product": product}})

    response = await client3.post(f"/campaigns/{campaign['id']}/send")
    late = (await create_customer(client3, preferred_product=product))["id"]  # after the acceptance
    await expander.run_until_done()

    assert response.json()["messages_queued"] == 7
    assert await messaged(db, campaign["id"]) == ids
    assert late not in await messaged(db, campaign["id"])


async def test_a_crash_mid_expansion_resumes_where_it_stopped_and_creates_nothing_twice(
    client3: httpx.AsyncClient,
    db: Db,
    expander: ExpandAudiences,
    account: KeyedAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [(await create_customer(client3))["id"] for _ in range(11)]
    campaign = await create_campaign(client3)
    await client3.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    await expander.expand_chunk(account.id, campaign["id"])  # 6 of 11 exist now

    real_advance = audience_expansions.advance

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the process died after inserting the chunk, before recording it")

    monkeypatch.setattr(audience_expansions, "advance", crash)
    with pytest.raises(ConnectionError):
        await expander.expand_chunk(account.id, campaign["id"])
    assert len(await messaged(db, campaign["id"])) == 2 * CHUNK, "the crashed chunk's rows rolled back with it"
    monkeypatch.setattr(audience_expansions, "advance", real_advance)

    # two replicas resume it at once: each chunk is taken by one of them
    await asyncio.gather(expander.run_until_done(), expander.run_until_done())

    assert await messaged(db, campaign["id"]) == sorted(ids)
    assert (await detail(client3, campaign["id"]))["expansion"] == {
        "audience_size": 11,
        "created": 11,
        "finished": True,
    }


async def test_a_cursor_set_back_creates_no_second_message(
    client3: httpx.AsyncClient, db: Db, expander: ExpandAudiences
) -> None:
    ids = [(await create_customer(client3))["id"] for _ in range(5)]
    campaign = await create_campaign(client3)
    await client3.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    await expander.run_until_done()
    await db.execute(
        "UPDATE audience_expansions SET cursor_id = 0, finished_at = NULL WHERE campaign_id = %s", (campaign["id"],)
    )

    await expander.run_until_done()

    assert await messaged(db, campaign["id"]) == sorted(ids)
    assert (await detail(client3, campaign["id"]))["expansion"]["created"] == 5


async def test_unknown_ids_refuse_the_whole_send_before_any_chunk(client3: httpx.AsyncClient, db: Db) -> None:
    ids = [(await create_customer(client3))["id"] for _ in range(8)]
    campaign = await create_campaign(client3)

    response = await client3.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [*ids, 999_999_999]})

    assert_error(response, 422, "UNKNOWN_CUSTOMERS")
    assert await messaged(db, campaign["id"]) == []
    body = await detail(client3, campaign["id"])
    assert body["status"] == "draft" and body["expansion"] is None


async def test_a_cancelled_campaign_stops_expanding(
    client3: httpx.AsyncClient, db: Db, expander: ExpandAudiences
) -> None:
    ids = [(await create_customer(client3))["id"] for _ in range(9)]
    campaign = await create_campaign(client3)
    await client3.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    await db.execute("UPDATE campaigns SET status = 'cancelled' WHERE id = %s", (campaign["id"],))

    await expander.run_until_done()

    assert len(await messaged(db, campaign["id"])) == CHUNK
    assert (await detail(client3, campaign["id"]))["expansion"]["finished"] is True

"""The O(1) counts (migration 0013): a campaign's stats and the lists' total_count come from counters that stay
exact through concurrent sends, outcome writes and deletes, before and after their compaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.counters import compact
from dispatch import outbound_messages
from fastapi import FastAPI

from campaign_api_tests.factories import KeyedAccount, create_campaign, create_customer

Db = psycopg.AsyncConnection[tuple[Any, ...]]
STATUSES = ("pending", "sending", "sent", "failed", "suppressed", "expired", "cancelled")


async def counted_by_table(db: Db, campaign_id: int) -> dict[str, int]:
    """The ground truth: count(*) of the campaign's messages by status, every status named (0 when absent)."""
    cur = await db.execute(
        "SELECT status, count(*) FROM outbound_messages WHERE campaign_id = %s GROUP BY status", (campaign_id,)
    )
    found = {status: int(n) for status, n in await cur.fetchall()}
    cur = await db.execute(
        "SELECT count(*) FILTER (WHERE delivery_status IN ('delivered', 'read')),"
        " count(*) FILTER (WHERE delivery_status = 'undelivered'), count(*) FILTER (WHERE delivery_status = 'read')"
        " FROM outbound_messages WHERE campaign_id = %s",
        (campaign_id,),
    )
    receipts = await cur.fetchone()
    assert receipts is not None
    return {
        "total": sum(found.values()),
        **{status: found.get(status, 0) for status in STATUSES},
        **dict(zip(("delivered", "undelivered", "read"), (int(n) for n in receipts), strict=True)),
    }


async def stats(client: httpx.AsyncClient, campaign_id: int) -> dict[str, int]:
    response = await client.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200
    body: dict[str, int] = response.json()["stats"]
    return body


async def move(database_url: str, campaign_id: int, old: str, new: str, limit: int) -> None:
    """One set-based status change on its own connection, as a worker's outcome write is."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE outbound_messages SET status = %s, sent_at = CASE WHEN %s = 'sent' THEN now() END"
            " WHERE id IN (SELECT id FROM outbound_messages WHERE campaign_id = %s AND status = %s"
            " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)",
            (new, new, campaign_id, old, limit),
        )


async def test_stats_stay_exact_through_concurrent_sends_outcome_writes_and_deletes(
    client: httpx.AsyncClient, db: Db, database_url: str
) -> None:
    customers = [(await create_customer(client))["id"] for _ in range(40)]
    campaigns = [(await create_campaign(client))["id"] for _ in range(3)]
    sends = [client.post(f"/campaigns/{c}/send", json={"customer_ids": customers}) for c in campaigns]
    assert {r.status_code for r in await asyncio.gather(*sends)} == {202}

    # several writers at once on the same campaigns, as the worker's loops and replicas do
    writes = []
    for campaign_id in campaigns:
        writes += [move(database_url, campaign_id, "pending", "sending", 7) for _ in range(4)]
    await asyncio.gather(*writes)
    writes = []
    for campaign_id in campaigns:
        writes += [
            move(database_url, campaign_id, "sending", "sent", 5),
            move(database_url, campaign_id, "sending", "failed", 3),
            move(database_url, campaign_id, "pending", "suppressed", 2),
            move(database_url, campaign_id, "sending", "pending", 4),
        ]
    await asyncio.gather(*writes)
    await db.execute(
        "DELETE FROM outbound_messages WHERE id IN (SELECT id FROM outbound_messages WHERE campaign_id = %s"
        " AND status = 'failed' ORDER BY id LIMIT 2)",
        (campaigns[0],),
    )

    for campaign_id in campaigns:
        assert await stats(client, campaign_id) == await counted_by_table(db, campaign_id)
    first = await stats(client, campaigns[0])
    assert (first["total"], first["sent"], first["failed"], first["suppressed"]) == (38, 5, 1, 2)

    while await compact(db):  # fold every delta; the answer does not change
        pass
    for campaign_id in campaigns:
        assert await stats(client, campaign_id) == await counted_by_table(db, campaign_id)


async def test_a_rolled_back_write_changes_no_count(client: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})

    async with db.transaction(force_rollback=True):
        await db.execute("UPDATE outbound_messages SET status = 'failed' WHERE campaign_id = %s", (campaign["id"],))

    assert await stats(client, campaign["id"]) == {**(await counted_by_table(db, campaign["id"])), "pending": 1}


async def counted_campaigns(db: Db, where: str = "", params: tuple[Any, ...] = ()) -> int:
    cur = await db.execute(
        f"SELECT count(*) FROM campaigns WHERE account_id = current_setting('app.account_id')::bigint {where}",
        params,
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def total_count(client: httpx.AsyncClient, **query: Any) -> int:
    response = await client.get("/campaigns", params={"page_size": 1, **query})
    assert response.status_code == 200
    return int(response.json()["pagination"]["total_count"])


async def test_list_total_count_matches_the_table_for_every_filter_and_keyset_bound(
    client: httpx.AsyncClient, db: Db
) -> None:
    # more than one 4,096-id bucket of the counters, in both channels and several statuses
    await db.execute(
        "INSERT INTO campaigns (name, channel, status, base_template)"
        " SELECT 'bulk ' || i, CASE WHEN i % 3 = 0 THEN 'whatsapp' ELSE 'sms' END,"
        " CASE WHEN i % 5 = 0 THEN 'sent' ELSE 'draft' END, 'Hi' FROM generate_series(1, 9000) AS i"
    )
    await db.execute("UPDATE campaigns SET status = 'failed' WHERE name LIKE 'bulk %' AND id % 7 = 0")
    await db.execute("DELETE FROM campaigns WHERE name LIKE 'bulk %' AND id % 11 = 0")
    cur = await db.execute("SELECT min(id), max(id) FROM campaigns WHERE name LIKE 'bulk %'")
    low, high = await cur.fetchone() or (0, 0)
    bounds = [low, low + 1, (low >> 12 << 12) + 4096, (low >> 12 << 12) + 4097, (low + high) // 2, high, high + 1]

    for compacted in (False, True):
        if compacted:
            while await compact(db):
                pass
        assert await total_count(client) == await counted_campaigns(db)
        assert await total_count(client, channel="whatsapp") == await counted_campaigns(db, "AND channel = 'whatsapp'")
        assert await total_count(client, status="failed") == await counted_campaigns(db, "AND status = 'failed'")
        for before_id in bounds:
            assert await total_count(client, before_id=before_id) == await counted_campaigns(
                db, "AND id < %s", (before_id,)
            )
            assert await total_count(client, before_id=before_id, channel="sms", status="sent") == (
                await counted_campaigns(db, "AND id < %s AND channel = 'sms' AND status = 'sent'", (before_id,))
            )


@pytest.fixture
async def other_client(app: FastAPI, other_account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=other_account.headers) as http:
        yield http


async def test_another_accounts_counts_are_not_seen(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, db: Db
) -> None:
    before = await total_count(other_client)
    await create_campaign(client)

    assert await total_count(other_client) == before


async def queued_last_day(db: Db) -> tuple[int, int]:
    """(the quota's count from its counters, count(*) of the account's messages of the last 24 hours)."""
    counted = await outbound_messages.count_queued_since(db, 24)
    cur = await db.execute(
        "SELECT count(*) FROM outbound_messages WHERE account_id = current_setting('app.account_id')::bigint"
        " AND created_at > now() - interval '24 hours'"
    )
    row = await cur.fetchone()
    return counted, int(row[0]) if row else 0


async def test_the_recipient_quota_counts_the_last_day_from_its_counters(client: httpx.AsyncClient, db: Db) -> None:
    customers = [(await create_customer(client))["id"] for _ in range(6)]
    campaign = await create_campaign(client)
    await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": customers})
    counted, truth = await queued_last_day(db)
    assert counted == truth and counted >= 6

    # two of them age out of the window, one is deleted
    await db.execute(
        "UPDATE outbound_messages SET created_at = now() - interval '25 hours' WHERE campaign_id = %s"
        " AND customer_id = ANY(%s)",
        (campaign["id"], customers[:2]),
    )
    await db.execute(
        "DELETE FROM outbound_messages WHERE campaign_id = %s AND customer_id = %s", (campaign["id"], customers[2])
    )

    assert await queued_last_day(db) == (truth - 3, truth - 3)
    while await compact(db):
        pass
    assert await queued_last_day(db) == (truth - 3, truth - 3)

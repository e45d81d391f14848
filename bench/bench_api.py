"""campaign-api: POST /campaigns/{id}/send latency for 1k, 10k and 100k customer ids through the real app."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid

import httpx
import psycopg
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_app, create_key
from campaign_api.migrations import apply_migrations
from campaign_api.settings import Settings
from prometheus_client import CollectorRegistry
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import PostgresDsn
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import ADMIN_URL, as_url

CUSTOMERS = 100_000
SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3
TARGETS_S = {10_000: 0.3, 100_000: 3.0}

CREATE_CAMPAIGN = """
    INSERT INTO campaigns (name, channel, base_template) VALUES (%s, 'sms', 'Hi {first_name|there}!') RETURNING id
"""


def load_customers(url: str) -> None:
    """COPY the customers in one stream."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(USE_TEST_ACCOUNT)  # the rows belong to the account 'tests', whose key measure() uses
        with cur.copy("COPY customers (phone, first_name, location) FROM STDIN") as copy:
            for i in range(CUSTOMERS):
                copy.write_row((f"+2547{10_000_000 + i:08d}", f"Name{i}", "Nairobi"))
        cur.execute("ANALYZE customers")


async def measure(url: str) -> dict[int, list[float]]:
    """Send fresh campaigns to random ids over HTTP (in-process ASGI), timing each request end to end."""
    settings = Settings(database_url=url, relay_enabled=False)
    app = create_app(settings, registry=CollectorRegistry())
    key = await create_key(settings, "tests", ACCOUNT_SCOPES, "bench")
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random(7)
    timings: dict[int, list[float]] = {size: [] for size in SIZES}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", timeout=60, headers=headers
        ) as client,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as conn,
    ):
        await conn.execute(USE_TEST_ACCOUNT)
        cur = await conn.execute("SELECT min(id), max(id) FROM customers")
        low, high = await cur.fetchone() or (1, CUSTOMERS)
        await client.get("/campaigns")  # warm the pool
        for size in SIZES:
            for round_no in range(ROUNDS):
                campaign_id = (
                    await (await conn.execute(CREATE_CAMPAIGN, (f"bench {size} {round_no}",))).fetchone() or (0,)
                )[0]
                ids = rng.sample(range(low, high + 1), size)
                started = time.perf_counter()
                body = json.dumps({"customer_ids": ids})
                response = await client.post(
                    f"/campaigns/{campaign_id}/send", content=body, headers={"content-type": "application/json"}
                )
                timings[size].append(time.perf_counter() - started)
                assert response.status_code == 202, response.text
                assert response.json()["messages_queued"] == size
    return timings


def main() -> None:
    """Create a database, load 100k customers, measure the send endpoint, drop the database."""
    dbname = f"bench_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = as_url(make_conninfo(ADMIN_URL, dbname=dbname))
            apply_migrations(PostgresDsn(url))
            started = time.perf_counter()
            load_customers(url)
            print(f"loaded {CUSTOMERS:,} customers with COPY in {time.perf_counter() - started:.2f} s")
            timings = asyncio.run(measure(url))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    for size, values in timings.items():
        median = statistics.median(values)
        target = TARGETS_S.get(size)
        verdict = "" if target is None else f"  target <= {target:.1f} s: {'met' if median <= target else 'MISSED'}"
        print(f"send {size:>7,} ids: median {median:.3f} s (best {min(values):.3f} s, {ROUNDS} rounds){verdict}")


if __name__ == "__main__":
    main()

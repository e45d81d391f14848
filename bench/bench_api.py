"""campaign-api: POST /campaigns/{id}/send latency for 1k, 10k and 100k customer ids through the real app, then the
list and detail reads at 50 connections against `campaign-api serve` (wrk), with the CPU each request costs the
server process and PostgreSQL: on a shared machine req/s follows the load, CPU per request much less."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import statistics
import time
import uuid
from pathlib import Path

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

from bench.scale import SECONDS, account_key, api_server, wrk

CUSTOMERS = 100_000
SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3
TARGETS_S = {10_000: 0.3, 100_000: 3.0}
READ_CONNECTIONS = 50
READ_TARGET_RPS = 1_500
EXPANSION_TIMEOUT_S = 300.0
UNFINISHED_EXPANSIONS = "SELECT count(*) FROM audience_expansions WHERE finished_at IS NULL"
CPU_SECONDS = re.compile(r"^process_cpu_seconds_total ([\d.e+]+)$", re.M)

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
        # the answers came before most messages existed: let the expansion finish here, or the reads measured next
        # would share the server and PostgreSQL with it
        deadline = time.monotonic() + EXPANSION_TIMEOUT_S
        while await (await conn.execute(UNFINISHED_EXPANSIONS)).fetchone() != (0,):
            if time.monotonic() > deadline:
                raise SystemExit(f"the sends' expansions did not finish in {EXPANSION_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)
    return timings


def server_cpu_s(base: str) -> float:
    """The serving process's CPU seconds so far (prometheus_client's process collector on /metrics)."""
    found = CPU_SECONDS.search(httpx.get(f"{base}/metrics", timeout=10).text)
    return float(found[1]) if found else float("nan")


def postgres_cpu_s(url: str) -> float:
    """CPU seconds of the database's backends so far, read from /proc (the server runs on this machine)."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure_reads(url: str) -> list[str]:
    """GET /campaigns (the account's 9) and GET /campaigns/{id} (the 100k-message one) at 50 connections."""
    key = account_key(url, "tests", "bench-reads")
    with psycopg.connect(url, autocommit=True) as conn:
        # the sends wrote 333,000 messages: vacuum and analyse them now, as autovacuum soon would, so the reads
        # measure a settled database rather than an autovacuum worker that happens to run during them
        conn.execute("VACUUM (ANALYZE)")
        conn.execute(USE_TEST_ACCOUNT)
        row = conn.execute("SELECT campaign_id FROM outbound_messages GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        biggest = (row.fetchone() or (1,))[0]
    lines = []
    with api_server(url) as base:
        for path in ("/campaigns", f"/campaigns/{biggest}"):
            httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=60)
            server, database = server_cpu_s(base), postgres_cpu_s(url)
            run = wrk(base, path, key, READ_CONNECTIONS)
            requests = max(1.0, run.rps * SECONDS)
            server_ms = (server_cpu_s(base) - server) * 1000 / requests
            database_ms = (postgres_cpu_s(url) - database) * 1000 / requests
            met = "met" if run.rps >= READ_TARGET_RPS else "MISSED"
            errors = f", {run.errors} not 2xx" if run.errors else ""
            lines.append(
                f"GET {path.replace(str(biggest), '{id}')}, {READ_CONNECTIONS} connections: {run.rps:.0f} req/s, "
                f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms{errors}; CPU per request: server "
                f"{server_ms:.2f} ms, PostgreSQL {database_ms:.2f} ms  target >= {READ_TARGET_RPS:,} req/s: {met}"
            )
    return lines


def main() -> None:
    """Create a database, load 100k customers, measure the send endpoint and the reads, drop the database."""
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
            reads = (
                measure_reads(url)
                if shutil.which("wrk")
                else ["reads not measured: they need wrk (apt-get install wrk)"]
            )
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    for size, values in timings.items():
        median = statistics.median(values)
        target = TARGETS_S.get(size)
        verdict = "" if target is None else f"  target <= {target:.1f} s: {'met' if median <= target else 'MISSED'}"
        print(f"send {size:>7,} ids: median {median:.3f} s (best {min(values):.3f} s, {ROUNDS} rounds){verdict}")
    print(f"load average {os.getloadavg()[0]:.1f} over {os.cpu_count()} cores")
    for line in reads:
        print(line)


if __name__ == "__main__":
    main()

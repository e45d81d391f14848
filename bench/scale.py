"""campaign-api at a million: list, keyset, detail and send latencies over a database of 1M customers, 1M campaigns
and one 1M-message campaign, each printed beside its target (issue 17's table).

`make bench-scale` (`python -m bench.scale`; not part of `make bench`: it takes minutes). The database is built
with COPY in a database of its own (dropped at the end); the API runs as `campaign-api serve` in a subprocess, the
relay off (nothing is published), and the load comes from wrk (Debian package `wrk`), so the load generator's own
CPU is small beside the server's.
SCALE_ROWS (default 1,000,000) shrinks the tables for a quick try; SCALE_SECONDS (default 10) is each wrk run;
SCALE_KEEP=1 keeps the database afterwards (for EXPLAIN ANALYZE); SCALE_ONLY picks rows by name, comma-separated
(first-page, keyset, detail, small-list, small-detail, send; default all), e.g. SCALE_ONLY=small-list,small-detail;
SCALE_DB names a database kept by SCALE_KEEP to measure again without loading it anew.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_key
from campaign_api.migrations import apply_migrations
from campaign_api.settings import Settings
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import PostgresDsn
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import ADMIN_URL, as_url

ROWS = int(os.environ.get("SCALE_ROWS", "1000000"))
SECONDS = int(os.environ.get("SCALE_SECONDS", "10"))
SMALL_CAMPAIGNS = 50
ROW_NAMES = ("first-page", "keyset", "detail", "small-list", "small-detail", "send")
ONLY = tuple(name.strip() for name in os.environ.get("SCALE_ONLY", ",".join(ROW_NAMES)).split(",") if name.strip())
# the 1M-message campaign's rows, by status, as a drain leaves them halfway
MESSAGE_MIX = (("sent", 0.55), ("failed", 0.05), ("sending", 0.01), ("pending", 0.39))

USE_SMALL_ACCOUNT = """
    WITH account AS (
        INSERT INTO accounts (name) VALUES ('small') ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id
    )
    SELECT set_config('app.account_id', id::text, false) FROM account
"""

KEYSET_LUA = """
math.randomseed(7)
request = function()
  return wrk.format("GET", "/campaigns?page_size=20&before_id=" .. math.random(2, %d))
end
"""


@dataclass(frozen=True, slots=True)
class Latency:
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int


def load(url: str) -> tuple[int, int]:
    """COPY the customers, the campaigns and one campaign's messages; return (big campaign, send campaign) ids."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(USE_TEST_ACCOUNT)
        cur.execute("UPDATE accounts SET recipients_per_day = 100000000 WHERE name = 'tests'")
        with cur.copy("COPY customers (phone, first_name, location) FROM STDIN") as copy:
            for i in range(ROWS):
                copy.write_row((f"+2547{10_000_000 + i:08d}", f"Name{i}", "Nairobi" if i % 2 else "Mombasa"))
        print(f"  {ROWS:,} customers in {time.perf_counter() - started:.1f} s", flush=True)
        step = time.perf_counter()
        with cur.copy("COPY campaigns (name, channel, status, base_template) FROM STDIN") as copy:
            for i in range(ROWS - 2):
                status = "sent" if i % 10 else "draft"
                copy.write_row((f"campaign {i}", "sms" if i % 3 else "whatsapp", status, "Hi {first_name}!"))
        cur.execute(
            "INSERT INTO campaigns (name, channel, status, base_template) VALUES ('the big one', 'sms', 'sending', "
            "'Hi {first_name}!') RETURNING id"
        )
        big = (cur.fetchone() or (0,))[0]
        cur.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, audience) VALUES ('segment send', 'sms', "
            """'draft', 'Hi {first_name}!', '{"segment": {"all": true}}') RETURNING id"""
        )
        send = (cur.fetchone() or (0,))[0]
        print(f"  {ROWS:,} campaigns in {time.perf_counter() - step:.1f} s", flush=True)
        step = time.perf_counter()
        cur.execute("SELECT min(id) FROM customers")
        first = (cur.fetchone() or (1,))[0]
        bounds, edge = [], 0.0
        for status, share in MESSAGE_MIX:
            edge += share
            bounds.append((int(edge * ROWS), status))
        columns = "campaign_id, customer_id, status, published_at, sent_at"
        with cur.copy(f"COPY outbound_messages ({columns}) FROM STDIN") as copy:
            kind = 0
            for i in range(ROWS):
                while i >= bounds[kind][0]:
                    kind += 1
                status = bounds[kind][1]
                published = None if status == "pending" else "now"
                copy.write_row((big, first + i, status, published, "now" if status == "sent" else None))
        print(f"  {ROWS:,} messages in {time.perf_counter() - step:.1f} s", flush=True)
        cur.execute(USE_SMALL_ACCOUNT)
        with cur.copy("COPY campaigns (name, channel, status, base_template) FROM STDIN") as copy:
            for i in range(SMALL_CAMPAIGNS):
                copy.write_row((f"small {i}", "sms", "draft", "Hi {first_name}!"))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"loaded and analysed in {time.perf_counter() - started:.1f} s", flush=True)
    return big, send


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def account_key(url: str, account: str, name: str = "bench") -> str:
    """A new API key of `account` (every account scope) in the database at `url`, as `campaign-api keys create`."""
    return asyncio.run(create_key(Settings(database_url=url, relay_enabled=False), account, ACCOUNT_SCOPES, name))


@contextmanager
def api_server(url: str) -> Iterator[str]:
    """`campaign-api serve` on a free port, relay off and limits out of the way; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "RELAY_ENABLED": "false",
        "RATE_LIMIT_REQUESTS": "1000000000",
        "RATE_LIMIT_SENDS": "1000000",
        "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "10"),
        "LOG_LEVEL": "WARNING",
        "WEB_DIST_DIR": "/nonexistent-web-dist",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from campaign_api.main import cli; cli()", "serve"],
        env=env,
        stdout=SERVER_LOG.open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("campaign-api did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


SERVER_LOG = Path(tempfile.gettempdir()) / "bench-scale-campaign-api.log"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(base: str, path: str, key: str, connections: int, script: str | None = None) -> Latency:
    """One wrk run; its latency distribution and throughput."""
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{SECONDS}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {key}",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script is not None:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run([*command, f"{base}{path}"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    percentiles = {
        m[1]: float(m[2]) * UNITS[m[3]] for m in re.finditer(r"^\s+(50|99)\.000%?\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    if not percentiles:
        percentiles = {
            m[1]: float(m[2]) * UNITS[m[3]] for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Latency(percentiles["50"], percentiles["99"], rps, int(errors[1]) if errors else 0)


async def send_and_expand(base: str, key: str, campaign_id: int, big: int) -> tuple[float, int, float | None]:
    """POST the stored-segment send; time the answer, then (when the messages are created after it) the expansion."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as client:
        started = time.perf_counter()
        response = await client.post(f"/campaigns/{campaign_id}/send")
        answered = time.perf_counter() - started
        if response.status_code != 202:
            raise SystemExit(f"send answered {response.status_code}: {response.text} (server log: {SERVER_LOG})")
        queued = int(response.json()["messages_queued"])
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            detail = (await client.get(f"/campaigns/{campaign_id}")).json()
            if int(detail["stats"]["total"]) >= queued:
                return answered, queued, time.perf_counter() - started
            await asyncio.sleep(0.5)
    return answered, queued, None


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "MISSED"


def measure(url: str, big: int, send: int) -> list[str]:
    """Every row of the table this bench covers (those SCALE_ONLY names), as printed lines."""
    unknown = set(ONLY) - set(ROW_NAMES)
    if unknown:
        raise SystemExit(f"SCALE_ONLY: unknown rows {sorted(unknown)}; pick from {', '.join(ROW_NAMES)}")
    key, small_key = account_key(url, "tests"), account_key(url, "small")
    lines = []
    runs: dict[str, Latency] = {}
    with api_server(url) as base:
        for warm in ("/campaigns", f"/campaigns/{big}"):
            httpx.get(f"{base}{warm}", headers={"Authorization": f"Bearer {key}"}, timeout=60)
        if "first-page" in ONLY:
            first = runs["first page"] = wrk(base, "/campaigns?page_size=20", key, 4)
            lines.append(
                f"GET /campaigns first page, {ROWS:,} campaigns, 4 clients: p50 {first.p50_ms:.1f} ms, "
                f"p99 {first.p99_ms:.1f} ms, {first.rps:.0f} req/s  target p99 <= 20 ms: {verdict(first.p99_ms, 20)}"
            )
        if "keyset" in ONLY:
            keyset = runs["keyset"] = wrk(base, "/campaigns", key, 4, KEYSET_LUA % ROWS)
            lines.append(
                f"GET /campaigns?before_id=random, 4 clients: p50 {keyset.p50_ms:.1f} ms, "
                f"p99 {keyset.p99_ms:.1f} ms, {keyset.rps:.0f} req/s  target p99 <= 20 ms: "
                f"{verdict(keyset.p99_ms, 20)}"
            )
        if "detail" in ONLY:
            detail = runs["detail"] = wrk(base, f"/campaigns/{big}", key, 1)
            lines.append(
                f"GET /campaigns/{{id}}, {ROWS:,} messages, 1 client: p50 {detail.p50_ms:.1f} ms, "
                f"p99 {detail.p99_ms:.1f} ms  target <= 20 ms: {verdict(detail.p99_ms, 20)}"
            )
        if "small-list" in ONLY:
            small = runs["small list"] = wrk(base, "/campaigns", small_key, 50)
            lines.append(
                f"GET /campaigns, {SMALL_CAMPAIGNS} campaigns, 50 connections: {small.rps:.0f} req/s, "
                f"p99 {small.p99_ms:.1f} ms  target >= 1,500 req/s: {verdict(small.rps, 1500, higher_is_better=True)}"
            )
        if "small-detail" in ONLY:
            small_detail = runs["detail at 50 connections"] = wrk(base, f"/campaigns/{big}", key, 50)
            lines.append(
                f"GET /campaigns/{{id}} (the 1M one), 50 connections: {small_detail.rps:.0f} req/s, "
                f"p99 {small_detail.p99_ms:.1f} ms  target >= 1,500 req/s: "
                f"{verdict(small_detail.rps, 1500, higher_is_better=True)}"
            )
        for name, run in runs.items():
            if run.errors:
                lines.append(f"  (!) {name}: {run.errors} answers were not 2xx (counted in its figures)")
        if "send" in ONLY:
            time.sleep(5)  # let requests still queued for a pooled connection end before the send
            answered, queued, expanded = asyncio.run(send_and_expand(base, key, send, big))
            tail = "" if expanded is None else f"; all {queued:,} messages created {expanded:.1f} s after the request"
            lines.append(
                f"POST /campaigns/{{id}}/send, stored segment of {queued:,}: answered in {answered:.2f} s{tail}  "
                f"target answer <= 1 s: {verdict(answered, 1.0)}"
            )
    return lines


def loaded_ids(url: str) -> tuple[int, int]:
    """The big campaign and the send campaign of a database loaded before (SCALE_DB)."""
    with psycopg.connect(url) as conn:
        conn.execute(USE_TEST_ACCOUNT)
        rows: dict[str, int] = dict(
            conn.execute("SELECT name, id FROM campaigns WHERE name IN ('the big one', 'segment send')").fetchall()
        )
    if len(rows) != 2:
        raise SystemExit("SCALE_DB: that database was not loaded by bench.scale")
    return int(rows["the big one"]), int(rows["segment send"])


def main() -> None:
    """Build the database (or take SCALE_DB's), measure, drop it (unless SCALE_KEEP or SCALE_DB)."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench_scale needs wrk: apt-get install wrk")
    reused = os.environ.get("SCALE_DB")
    dbname = reused or f"bench_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        if not reused:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = as_url(make_conninfo(ADMIN_URL, dbname=dbname))
            apply_migrations(PostgresDsn(url))
            big, send = loaded_ids(url) if reused else load(url)
            lines = measure(url, big, send)
        finally:
            if reused or os.environ.get("SCALE_KEEP"):
                print(f"kept the database {dbname}: drop it when done")
            else:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    print(json.dumps({"rows": ROWS, "wrk_seconds": SECONDS, "rows_measured": list(ONLY)}))
    for line in lines:
        print(line)
    print("measured next by bench.scale_drain: the drain and the broker backlog; end to end at 0 ms: make bench")


if __name__ == "__main__":
    main()

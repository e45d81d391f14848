"""Dispatch end to end: outbox rows → relay → one dispatch-worker process → every message terminal.

Own database and own queue prefix, both removed at the end. Prints msg/s at 0 ms and 100 ms mock latency (success
probability 1.0), the worker's peak RSS, and a naive configuration (prefetch 1, batch 1, one loop) with the ratio.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import psycopg
from campaign_api.migrations import apply_migrations
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology, delete_topology
from prometheus_client import CollectorRegistry
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from pydantic import PostgresDsn
from test_kit.accounts import USE_TEST_ACCOUNT

ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@localhost:5432/postgres")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/")
MESSAGES = 20_000
NAIVE_MESSAGES = 2_000  # the naive configuration is slow; its rate is measured on fewer messages
TARGET_0MS = 2_000.0
TARGET_100MS = 1_000.0
TARGET_RSS_MB = 150.0
TEMPLATE = "Hi {first_name|there}, your favourite {preferred_product} is 20% off in {location} today!"


@dataclass(frozen=True)
class Scenario:
    name: str
    messages: int
    latency_ms: float
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready on port {port} after {timeout_s} s")


def spawn(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Run a service's console entry point as its own process."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", f"from {module} import cli; cli()"], env=env, stdout=subprocess.DEVNULL
    )


def end(process: subprocess.Popen[bytes], grace_s: float = 30.0) -> None:
    """SIGTERM and wait for the graceful exit; SIGKILL if it does not come."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        print(f"process {process.pid} ignored SIGTERM for {grace_s:.0f} s; killed")
        process.kill()
        process.wait()


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def create_database() -> str:
    name = f"dispatch_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    apply_migrations(PostgresDsn(url))
    with psycopg.connect(url) as conn:
        conn.execute(USE_TEST_ACCOUNT)
        conn.execute(
            "INSERT INTO customers (phone, first_name, last_name, location, preferred_product)"
            " SELECT '+3519' || lpad(g::text, 8, '0'), (ARRAY['Ann', 'José', NULL, 'Li'])[1 + g %% 4], 'Silva',"
            " (ARRAY['Lisbon', 'Porto', NULL])[1 + g %% 3], (ARRAY['Espresso', 'Mocha', 'Chai'])[1 + g %% 3]"
            " FROM generate_series(1, %s) g",
            (MESSAGES,),
        )
    return url


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def send_campaign(url: str, count: int, sender_id: int | None = None) -> int:
    """What POST /campaigns/{id}/send commits: a sending campaign, its outbox rows (set-based), NOTIFY outbox."""
    with psycopg.connect(url) as conn:
        conn.execute(USE_TEST_ACCOUNT)
        row = conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, sending_started_at, sender_id)"
            " VALUES ('bench', 'sms', 'sending', %s, now(), %s) RETURNING id",
            (TEMPLATE, sender_id),
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id, status)"
            " SELECT %s, id, 'pending' FROM customers ORDER BY id LIMIT %s",
            (row[0], count),
        )
        conn.execute("NOTIFY outbox")
        return int(row[0])


async def wait_done(pool: AsyncConnectionPool, campaign_id: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM outbound_messages WHERE campaign_id = %s AND status IN ('pending', 'sending')",
                (campaign_id,),
            )
            row = await cur.fetchone()
        if row and row[0] == 0:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"campaign {campaign_id} not finished after {timeout_s} s")


async def run_scenario(url: str, template_addr: str, prefix: str, scenario: Scenario) -> tuple[float, float]:
    """Return (msg/s, worker peak RSS in MB)."""
    topology = Topology(prefix=f"{prefix}_{scenario.name}", retry_delays_s=(1.0, 2.0, 4.0))
    probe_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AMQP_URL": AMQP_URL,
        "TEMPLATE_SVC_ADDR": template_addr,
        "QUEUE_PREFIX": topology.prefix,
        "RETRY_DELAYS_S": "[1.0,2.0,4.0]",
        "PROBE_PORT": str(probe_port),
        "MOCK_SUCCESS_PROBABILITY": "1.0",
        "MOCK_LATENCY": "fixed",
        "MOCK_LATENCY_MEAN_MS": str(scenario.latency_ms),
        "LOG_LEVEL": "WARNING",
        **scenario.env,
    }
    worker = spawn("dispatch_worker.main", env)
    try:
        wait_ready(probe_port, worker)
        async with AsyncConnectionPool(url, min_size=1, max_size=4, open=False) as pool:
            relay = OutboxRelay(
                pool, AMQP_URL, topology, RelayMetrics.register(CollectorRegistry()), RelaySettings(batch_size=1000)
            )
            relay_task = asyncio.create_task(relay.run())
            started = time.perf_counter()
            campaign_id = send_campaign(url, scenario.messages)
            await wait_done(pool, campaign_id, timeout_s=600)
            elapsed = time.perf_counter() - started
            await relay.stop()
            await relay_task
        rss = peak_rss_mb(worker.pid)
    finally:
        end(worker)
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            await delete_topology(await connection.channel(), topology)
    return scenario.messages / elapsed, rss


async def run_all() -> None:
    url = create_database()
    grpc_port = free_port()
    template = spawn(
        "template_svc.main",
        {**os.environ, "GRPC_PORT": str(grpc_port), "PROBE_PORT": str(free_port()), "LOG_LEVEL": "WARNING"},
    )
    prefix = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.sleep(1.5)
        scenarios = [
            Scenario("tuned_0ms", MESSAGES, 0, {}),
            Scenario("tuned_100ms", MESSAGES, 100, {}),
            Scenario("naive_0ms", NAIVE_MESSAGES, 0, {"PREFETCH": "1", "BATCH_SIZE": "1", "CONCURRENCY": "1"}),
        ]
        results = {}
        for scenario in scenarios:
            results[scenario.name] = await run_scenario(url, f"127.0.0.1:{grpc_port}", prefix, scenario)
            rate, rss = results[scenario.name]
            print(
                f"{scenario.name:>12}: {scenario.messages:>6} messages {rate:8.0f} msg/s, worker peak RSS {rss:5.1f} MB"
            )
        rate0, rss0 = results["tuned_0ms"]
        rate100, rss100 = results["tuned_100ms"]
        naive, _ = results["naive_0ms"]
        peak = max(rss0, rss100)
        print(f"end to end at 0 ms:   {rate0:8.0f} msg/s (target >= {TARGET_0MS:.0f})  {verdict(rate0 >= TARGET_0MS)}")
        print(
            f"end to end at 100 ms: {rate100:8.0f} msg/s (target >= {TARGET_100MS:.0f})"
            f"  {verdict(rate100 >= TARGET_100MS)}"
        )
        print(
            f"worker peak RSS:      {peak:8.1f} MB    (target <= {TARGET_RSS_MB:.0f})  {verdict(peak <= TARGET_RSS_MB)}"
        )
        print(f"naive (prefetch 1, batch 1) at 0 ms: {naive:.0f} msg/s; tuned is {rate0 / naive:.1f}x faster")
    finally:
        end(template)
        drop_database(url)


def main() -> None:
    """Run the dispatch benchmark and print its figures."""
    asyncio.run(run_all())


if __name__ == "__main__":
    main()

"""The drain rows of `make bench-scale` (issue 17): one worker drains a large campaign, RabbitMQ's memory stays
bounded by the relay's high-water mark, and a worker killed mid-drain resends only what it had in flight.

1. Drain: BENCH_SCALE_DRAIN messages (default 200,000; 1,000,000 for the full row) of one campaign go through the
   relay (its own process, RELAY_HIGH_WATER as campaign-api's default, 20,000), one dispatch-worker and template-svc
   with the platform's default mock latency (lognormal, mean 50 ms) and success probability 1.0, so the drain ends
   with its last message rather than in the retry tiers. Prints the rate from the send's commit to the last
   message sent, RabbitMQ's peak RSS (VmRSS of the beam.smp process, read from /proc every second) and the work
   queue's peak ready backlog beside the high-water mark.
2. Duplicates: 10,000 messages, the worker SIGKILLed once when about a third are sent and started again; the mock
   sender's log (MOCK_SEND_LOG, one line per attempt, written before the outcome is recorded) counts the messages
   it received more than once.

`python -m bench.scale_drain [drain|duplicates]` runs one part; `make bench-scale` runs both after bench.scale.
Own database, queue prefix and template-svc, all removed at the end.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import aio_pika
import psycopg
from campaign_api.counters import compacting_counters
from dispatch.relay import RelaySettings
from dispatch.topology import Topology, declare_topology, delete_topology
from prometheus_client.parser import text_string_to_metric_families
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT

from bench import bench_dispatch
from bench.bench_dispatch import (
    AMQP_URL,
    TEMPLATE,
    drop_database,
    end,
    free_port,
    spawn,
    spawn_relay,
    start_template_svc,
    wait_ready,
)

DRAIN = int(os.environ.get("BENCH_SCALE_DRAIN", "200000"))
DUPLICATE_RUN = 10_000
HIGH_WATER = int(os.environ.get("RELAY_HIGH_WATER", "20000"))
RELAY_BATCH = 500  # campaign-api's RELAY_BATCH_SIZE default
JOB_SIZE = RelaySettings().job_size  # campaign-api's RELAY_JOB_SIZE default: messages per broker job
TARGET_DRAIN = 2_000.0


def create_database(customers: int) -> str:
    """bench_dispatch's database with `customers` customers, and a daily recipient quota the drain cannot reach."""
    url = bench_dispatch.create_database(customers)
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE accounts SET recipients_per_day = 100000000 WHERE name = 'tests'")
    return url


def queue_campaign(url: str, count: int) -> None:
    """What a send leaves behind: a sending campaign and its pending outbox rows, without waking the relay."""
    with psycopg.connect(url) as conn:
        conn.execute(USE_TEST_ACCOUNT)
        row = conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, sending_started_at)"
            " VALUES ('drain', 'sms', 'sending', %s, now()) RETURNING id",
            (TEMPLATE,),
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id, status)"
            " SELECT %s, id, 'pending' FROM customers ORDER BY id LIMIT %s",
            (row[0], count),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE outbound_messages")


def broker_pid() -> int | None:
    """The beam.smp process of the local RabbitMQ (its management API is not enabled here)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    return int(entry.name)
            except OSError:
                continue
    return None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sent_so_far(probe_port: int) -> int:
    """dispatch_messages_sent_total of the worker, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{probe_port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "dispatch_messages_sent"
            for sample in family.samples
            if sample.name == "dispatch_messages_sent_total"
        )
    )


def worker_env(url: str, template_addr: str, topology: Topology, probe_port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "AMQP_URL": AMQP_URL,
        "TEMPLATE_SVC_ADDR": template_addr,
        "QUEUE_PREFIX": topology.prefix,
        "RETRY_DELAYS_S": "[1.0,2.0,4.0]",
        "PROBE_PORT": str(probe_port),
        "MOCK_SUCCESS_PROBABILITY": "1.0",
        "LOG_LEVEL": "WARNING",
        "RELAY_BATCH_SIZE": str(RELAY_BATCH),
        "RELAY_HIGH_WATER": str(HIGH_WATER),
        "RELAY_JOB_SIZE": str(JOB_SIZE),
        **extra,
    }


async def ready_jobs(channel: aio_pika.abc.AbstractChannel, topology: Topology) -> int:
    declared = await (await channel.get_underlay_channel()).queue_declare(topology.work_queue, passive=True)
    return declared.message_count or 0


async def count_sent(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT count(*) FROM outbound_messages WHERE status = 'sent'")
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def wait_until(done: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done after {timeout_s:.0f} s")
        await asyncio.sleep(every_s)


async def drain() -> list[str]:
    """The drain row and the broker-memory row."""
    started_build = time.perf_counter()
    url = create_database(DRAIN)
    queue_campaign(url, DRAIN)
    print(f"  {DRAIN:,} customers and pending messages in {time.perf_counter() - started_build:.1f} s", flush=True)
    topology = Topology(prefix=f"bench_drain_{uuid.uuid4().hex[:8]}", retry_delays_s=(1.0, 2.0, 4.0))
    grpc_port, probe_port = free_port(), free_port()
    template = start_template_svc(grpc_port)
    env = worker_env(url, f"127.0.0.1:{grpc_port}", topology, probe_port)
    worker = spawn("dispatch_worker.main", env)
    relay: subprocess.Popen[bytes] | None = None
    broker = broker_pid()
    connection = await aio_pika.connect(AMQP_URL)
    try:
        wait_ready(probe_port, worker)
        channel = await connection.channel()
        await declare_topology(channel, topology)
        rss_before = rss_mb(broker) if broker else float("nan")
        peak_rss, peak_ready = rss_before, 0
        started = time.perf_counter()
        relay = spawn_relay(env)  # the rows are committed: its first sweep finds them
        last_print = started
        # campaign-api folds the counters' deltas every second; the drain runs without it, so it runs the same loop
        async with (
            AsyncConnectionPool(url, min_size=1, max_size=1, open=False) as counters_pool,
            compacting_counters(counters_pool, interval_s=1.0),
        ):
            while (sent := sent_so_far(probe_port)) < DRAIN:
                peak_ready = max(peak_ready, await ready_jobs(channel, topology))
                if broker:
                    peak_rss = max(peak_rss, rss_mb(broker))
                if time.perf_counter() - last_print >= 30:
                    last_print = time.perf_counter()
                    rate = sent / (last_print - started)
                    print(f"  {sent:,} sent after {last_print - started:.0f} s ({rate:.0f} msg/s)", flush=True)
                if time.perf_counter() - started > 3600:
                    raise RuntimeError(f"drain not done after an hour ({sent:,} sent)")
                await asyncio.sleep(1.0)
        elapsed = time.perf_counter() - started
    finally:
        if relay is not None:
            end(relay)
        end(worker)
        end(template)
        async with connection:
            await delete_topology(await connection.channel(), topology)
        drop_database(url)
    rate = DRAIN / elapsed
    verdict = "met" if rate >= TARGET_DRAIN else "MISSED"
    return [
        f"drain of a {DRAIN:,}-message campaign, one worker (mock lognormal 50 ms, success 1.0): {rate:.0f} msg/s"
        f" in {elapsed:.0f} s  target >= {TARGET_DRAIN:,.0f} msg/s: {verdict}",
        f"broker during that drain: work queue peak ready backlog {peak_ready:,} jobs of up to {JOB_SIZE} messages"
        f" (at most {peak_ready * JOB_SIZE:,} messages; RELAY_HIGH_WATER {HIGH_WATER:,}), RabbitMQ RSS"
        f" {rss_before:.0f} MB before, peak {peak_rss:.0f} MB  target bounded by the high-water mark:"
        f" {'met' if peak_ready * JOB_SIZE <= HIGH_WATER + RELAY_BATCH else 'MISSED'}",
    ]


async def duplicates() -> list[str]:
    """Kill -9 the worker once mid-drain; how many messages the mock sender received more than once."""
    url = create_database(DUPLICATE_RUN)
    topology = Topology(prefix=f"bench_dups_{uuid.uuid4().hex[:8]}", retry_delays_s=(1.0, 2.0, 4.0))
    grpc_port = free_port()
    template = start_template_svc(grpc_port)
    send_log = Path(tempfile.mkdtemp()) / "mock-sends.log"
    worker: subprocess.Popen[bytes] | None = None
    relay: subprocess.Popen[bytes] | None = None
    connection = await aio_pika.connect(AMQP_URL)

    def start_worker() -> subprocess.Popen[bytes]:
        probe = free_port()
        process = spawn(
            "dispatch_worker.main",
            worker_env(url, f"127.0.0.1:{grpc_port}", topology, probe, MOCK_SEND_LOG=str(send_log)),
        )
        wait_ready(probe, process)
        return process

    try:
        worker = start_worker()
        relay = spawn_relay(worker_env(url, "", topology, 0))
        queue_campaign(url, DUPLICATE_RUN)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("NOTIFY outbox")
        while await count_sent(url) < DUPLICATE_RUN // 3:  # noqa: ASYNC110 - polling what another process changes
            await asyncio.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        in_flight_at_kill = len(send_log.read_text().splitlines())
        worker = start_worker()
        deadline = time.monotonic() + 600
        while await count_sent(url) < DUPLICATE_RUN:
            if time.monotonic() > deadline:
                raise RuntimeError("the messages were not all sent within 10 minutes of the restart")
            await asyncio.sleep(0.2)
    finally:
        if relay is not None:
            end(relay)
        if worker is not None:
            end(worker)
        end(template)
        async with connection:
            await delete_topology(await connection.channel(), topology)
        drop_database(url)
    attempts = collections.Counter(line.split()[0] for line in send_log.read_text().splitlines())
    twice = sum(1 for n in attempts.values() if n > 1)
    send_log.unlink()
    return [
        f"worker SIGKILLed once mid-drain ({in_flight_at_kill:,} of {DUPLICATE_RUN:,} sends logged by then):"
        f" {twice} messages reached the mock sender twice (before: 175 of 10,000)"
    ]


def main(parts: list[str]) -> None:
    """Run the parts named (default both) and print their rows."""
    lines: list[str] = []
    if not parts or "drain" in parts:
        lines += asyncio.run(drain())
    if not parts or "duplicates" in parts:
        lines += asyncio.run(duplicates())
    for line in lines:
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])

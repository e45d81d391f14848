"""The pipeline as deployed: a dispatch-worker process, the outbox relay, a private topology; and what they did."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aio_pika
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology, delete_topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool


def start_worker(
    database_url: str, amqp_url: str, template_svc_addr: str, topology: Topology, send_log: Path, **env: str
) -> subprocess.Popen[bytes]:
    """Run `dispatch-worker` as its own process, configured through the environment like in production."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "TEMPLATE_SVC_ADDR": template_svc_addr,
        "QUEUE_PREFIX": topology.prefix,
        "RETRY_DELAYS_S": "[" + ",".join(str(d) for d in topology.retry_delays_s) + "]",
        "PROBE_PORT": "0",
        "MOCK_SEND_LOG": str(send_log),
        "MOCK_SEED": "7",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from dispatch_worker.main import cli; cli()"],
        env=environment,
        stdout=subprocess.DEVNULL,
    )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait for the graceful exit (call it off the event loop: a proxy or relay there must keep going)."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@contextlib.asynccontextmanager
async def running_relay(pool: AsyncConnectionPool, amqp_url: str, topology: Topology) -> AsyncIterator[OutboxRelay]:
    """The outbox relay in this process for the block."""
    relay = OutboxRelay(
        pool, amqp_url, topology, RelayMetrics.register(CollectorRegistry()), RelaySettings(sweep_interval_s=0.2)
    )
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        await relay.stop()
        await task


async def remove_topology(amqp_url: str, topology: Topology) -> None:
    """Delete the test's queues and exchange."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await delete_topology(await connection.channel(), topology)


async def wait_terminal(pool: AsyncConnectionPool, campaign_id: int, timeout_s: float) -> dict[str, int]:
    """Poll until no message of the campaign is pending or sending; return the count per status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status, count(*) FROM outbound_messages WHERE campaign_id = %s GROUP BY status", (campaign_id,)
            )
            counts = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
        if not counts.get("pending") and not counts.get("sending"):
            return counts
        assert loop.time() < deadline, f"messages still in flight: {counts}"
        await asyncio.sleep(0.1)


async def wait_campaign_done(pool: AsyncConnectionPool, campaign_id: int, timeout_s: float = 10.0) -> str:
    """Poll until the campaign left 'sending'; return its status."""
    for _ in range(int(timeout_s / 0.1)):
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status FROM campaigns WHERE id = %s AND completed_at IS NOT NULL", (campaign_id,)
            )
            row = await cur.fetchone()
        if row:
            return str(row[0])
        await asyncio.sleep(0.1)
    raise AssertionError("campaign never completed")


@dataclass(frozen=True)
class SendLog:
    """What the mock sender logged: every attempt with its outcome and time."""

    attempts: Mapping[int, list[tuple[bool, float]]]

    @classmethod
    def read(cls, path: Path) -> SendLog:
        attempts: dict[int, list[tuple[bool, float]]] = defaultdict(list)
        for line in path.read_text().splitlines():
            message_id, outcome, at = line.split()
            attempts[int(message_id)].append((outcome == "ok", float(at)))
        return cls(attempts)

    def delivered_twice(self) -> int:
        """Messages the provider accepted more than once."""
        return sum(1 for tries in self.attempts.values() if sum(ok for ok, _ in tries) > 1)

    def total(self) -> Counter[bool]:
        return Counter(ok for tries in self.attempts.values() for ok, _ in tries)

"""Channels end to end: 20,000 SMS through real Kannel (bearerbox + smsbox + fakesmsc) beside the mock, same run.

Own database, queue prefixes and Kannel (temporary directory, loopback ports), all removed at the end. Each run
is outbox rows → relay → one dispatch-worker process → every message terminal, through a senders row (the worker's
per-message sender choice and the shared token bucket, set far above the rate reached so it never paces). Kannel's
figure is taken twice: when every message is `sent` (smsbox accepted it) and when fakesmsc has received them all.
Needs Debian's `kannel` and `kannel-extras`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
import psycopg
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology, delete_topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT

from bench.bench_dispatch import (
    AMQP_URL,
    create_database,
    drop_database,
    end,
    free_port,
    send_campaign,
    spawn,
    start_template_svc,
    wait_done,
    wait_ready,
)

# the Kannel the worker's tests start (bearerbox, smsbox with a sendsms user, fakesmsc on a fake SMSC link)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "dispatch-worker"))
from dispatch_worker_tests.kannel_gateway import PASSWORD, USERNAME, KannelGateway, run_kannel

MESSAGES = 20_000
THROUGHPUT = 10_000  # segments/s: the highest a sender may have, so the bucket never paces this run
CREDENTIALS_VAR = "BENCH_KANNEL_CREDENTIALS"


def send_through(url: str, provider: str, count: int) -> int:
    """A senders row, a sending campaign through it and its outbox rows, as the API writes them; NOTIFY outbox."""
    with psycopg.connect(url) as conn:
        conn.execute(USE_TEST_ACCOUNT)
        sender = conn.execute(
            "INSERT INTO senders (name, channel, provider, address, credentials_ref, throughput_per_s, callback_token)"
            " VALUES (%s, 'sms', %s, 'BENCH', %s, %s, gen_random_uuid()::text) RETURNING id",
            (f"bench-{provider}", provider, CREDENTIALS_VAR if provider == "kannel" else None, THROUGHPUT),
        ).fetchone()
        assert sender is not None
    # what the send commits, through that sender (the end-to-end benchmark's own seeding)
    return send_campaign(url, count, sender_id=int(sender[0]))


async def wait_received(gateway: KannelGateway, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(gateway.received()) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fakesmsc received {len(gateway.received())} of {count} after {timeout_s} s")
        await asyncio.sleep(0.2)


async def run(url: str, template_addr: str, provider: str, gateway: KannelGateway) -> tuple[float, float | None, int]:
    """(msg/s until every message is terminal, msg/s until the SMSC received them all (Kannel), messages sent)."""
    topology = Topology(prefix=f"bench_channels_{provider}_{uuid.uuid4().hex[:6]}", retry_delays_s=(1.0, 2.0, 4.0))
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
        "MOCK_LATENCY_MEAN_MS": "0",
        "KANNEL_URL": gateway.sendsms_url,
        CREDENTIALS_VAR: f"{USERNAME}:{PASSWORD}",
        "LOG_LEVEL": "WARNING",
    }
    worker = spawn("dispatch_worker.main", env)
    received_before = len(gateway.received())
    try:
        wait_ready(probe_port, worker)
        async with AsyncConnectionPool(url, min_size=1, max_size=4, open=False) as pool:
            relay = OutboxRelay(
                pool, AMQP_URL, topology, RelayMetrics.register(CollectorRegistry()), RelaySettings(batch_size=1000)
            )
            relay_task = asyncio.create_task(relay.run())
            started = time.perf_counter()
            campaign_id = send_through(url, provider, MESSAGES)
            await wait_done(pool, campaign_id, timeout_s=900)
            done = time.perf_counter() - started
            at_smsc = None
            if provider == "kannel":
                await wait_received(gateway, received_before + MESSAGES, timeout_s=600)
                at_smsc = MESSAGES / (time.perf_counter() - started)
            await relay.stop()
            await relay_task
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) FROM outbound_messages WHERE campaign_id = %s AND status = 'sent'", (campaign_id,)
                )
                row = await cur.fetchone()
                sent = int(row[0]) if row else 0
    finally:
        end(worker)
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            await delete_topology(await connection.channel(), topology)
    return MESSAGES / done, at_smsc, sent


async def run_all() -> None:
    url = create_database()
    grpc_port = free_port()
    template = start_template_svc(grpc_port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-kannel-") as directory, run_kannel(Path(directory)) as gateway:
            await asyncio.sleep(1.0)
            figures = {}
            for provider in ("mock", "kannel"):
                figures[provider] = await run(url, f"127.0.0.1:{grpc_port}", provider, gateway)
            mock_rate, _, mock_sent = figures["mock"]
            kannel_rate, kannel_smsc, kannel_sent = figures["kannel"]
            print(f"mock   (0 ms): {MESSAGES} messages, {mock_sent} sent, {mock_rate:8.0f} msg/s end to end")
            print(
                f"kannel + fakesmsc: {MESSAGES} messages, {kannel_sent} sent, {kannel_rate:8.0f} msg/s until all sent,"
                f" {kannel_smsc or 0:8.0f} msg/s until the SMSC received all"
            )
            print(f"kannel reaches {kannel_rate / mock_rate:.0%} of the mock's rate (same machine, same run)")
    finally:
        end(template)
        drop_database(url)


def main() -> None:
    """Run the channels benchmark and print its figures."""
    asyncio.run(run_all())


if __name__ == "__main__":
    main()

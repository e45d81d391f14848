"""Recovery after an outage: how soon dispatch is back at full speed once a dependency returns.

1. template-svc: one worker process drains a campaign through the relay; template-svc is stopped for OUTAGE_S in
   the middle of the drain and started again on the same port. Prints the drain rate before the outage and the time
   from template-svc's return until the rate over a RATE_WINDOW_S window is back to RECOVERED_SHARE of it.
2. PostgreSQL under the relay: the relay reaches the database through a TCP proxy that is cut for OUTAGE_S (the
   shared server itself keeps running); prints the time from the proxy's restore to the relay's next publish.
Target for both: 2 s. Own database and queue prefix, both removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import aio_pika
from campaign_api.main import open_system_pool
from campaign_api.settings import Settings
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology, delete_topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from pydantic import PostgresDsn
from test_kit.tcp_proxy import CuttableProxy

from bench.bench_dispatch import (
    AMQP_URL,
    create_database,
    drop_database,
    end,
    free_port,
    send_campaign,
    spawn,
    start_template_svc,
    verdict,
    wait_ready,
)

MESSAGES = 20_000
OUTAGE_S = 10.0
RATE_WINDOW_S = 0.5
RECOVERED_SHARE = 0.8
TARGET_RECOVERY_S = 2.0
LATENCY_MS = 20


async def sent_count(pool: AsyncConnectionPool, campaign_id: int) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM outbound_messages WHERE campaign_id = %s AND status = 'sent'", (campaign_id,)
        )
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def rate_over(pool: AsyncConnectionPool, campaign_id: int, window_s: float) -> float:
    before = await sent_count(pool, campaign_id)
    await asyncio.sleep(window_s)
    return (await sent_count(pool, campaign_id) - before) / window_s


async def run() -> None:
    url = create_database()
    grpc_port = free_port()
    template = start_template_svc(grpc_port)
    topology = Topology(prefix=f"bench_recovery_{uuid.uuid4().hex[:8]}", retry_delays_s=(1.0, 2.0, 4.0))
    probe_port = free_port()
    worker = spawn(
        "dispatch_worker.main",
        {
            **os.environ,
            "DATABASE_URL": url,
            "AMQP_URL": AMQP_URL,
            "TEMPLATE_SVC_ADDR": f"127.0.0.1:{grpc_port}",
            "QUEUE_PREFIX": topology.prefix,
            "RETRY_DELAYS_S": "[1.0,2.0,4.0]",
            "PROBE_PORT": str(probe_port),
            "MOCK_SUCCESS_PROBABILITY": "1.0",
            "MOCK_LATENCY": "fixed",
            "MOCK_LATENCY_MEAN_MS": str(LATENCY_MS),
            "LOG_LEVEL": "ERROR",
        },
    )
    try:
        wait_ready(probe_port, worker)
        async with AsyncConnectionPool(url, min_size=1, max_size=4, open=False) as pool:
            relay = OutboxRelay(
                pool, AMQP_URL, topology, RelayMetrics.register(CollectorRegistry()), RelaySettings(batch_size=1000)
            )
            relay_task = asyncio.create_task(relay.run())
            campaign_id = send_campaign(url, MESSAGES)
            while await sent_count(pool, campaign_id) < MESSAGES // 10:  # noqa: ASYNC110 - polling what another process changes
                await asyncio.sleep(0.1)
            before = await rate_over(pool, campaign_id, 2.0)
            end(template)
            await asyncio.sleep(OUTAGE_S)
            template = start_template_svc(grpc_port)
            returned = time.perf_counter()
            recovery_s = float("nan")
            while time.perf_counter() - returned < 60:
                if await rate_over(pool, campaign_id, RATE_WINDOW_S) >= RECOVERED_SHARE * before:
                    # the window that reached full speed started RATE_WINDOW_S ago
                    recovery_s = max(0.0, time.perf_counter() - returned - RATE_WINDOW_S)
                    break
            await relay.stop()
            await relay_task
        print(f"drain rate before the outage: {before:8.0f} msg/s ({LATENCY_MS} ms mock latency)")
        print(
            f"template-svc down {OUTAGE_S:.0f} s; back to {RECOVERED_SHARE:.0%} of that rate {recovery_s:5.1f} s after"
            f" it returned (target <= {TARGET_RECOVERY_S:.0f} s)  {verdict(recovery_s <= TARGET_RECOVERY_S)}"
        )
    finally:
        end(worker)
        end(template)
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            await delete_topology(await connection.channel(), topology)
        drop_database(url)


async def relay_after_database_outage() -> None:
    url = create_database()
    topology = Topology(prefix=f"bench_recovery_db_{uuid.uuid4().hex[:8]}", retry_delays_s=(1.0, 2.0, 4.0))
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    proxied = url.replace("@localhost:5432/", f"@127.0.0.1:{proxy.port}/")
    try:
        # the relay runs over campaign-api's system pool, as configured by default
        async with open_system_pool(Settings(database_url=PostgresDsn(proxied))) as pool:
            metrics = RelayMetrics.register(CollectorRegistry())
            relay = OutboxRelay(pool, AMQP_URL, topology, metrics, RelaySettings(batch_size=100))
            relay_task = asyncio.create_task(relay.run())
            send_campaign(url, 200)
            while metrics.published._value.get() < 200:  # noqa: ASYNC110 - polling what another process changes
                await asyncio.sleep(0.05)
            proxy.cut()
            await asyncio.sleep(1.0)
            send_campaign(url, 100)  # committed while the relay cannot reach the database
            await asyncio.sleep(OUTAGE_S - 1.0)
            proxy.restore()
            restored = time.perf_counter()
            while metrics.published._value.get() < 300 and time.perf_counter() - restored < 60:  # noqa: ASYNC110 - polling what another process changes
                await asyncio.sleep(0.02)
            recovery_s = time.perf_counter() - restored
            await relay.stop()
            await relay_task
        print(
            f"PostgreSQL unreachable {OUTAGE_S:.0f} s under the relay; publishing again {recovery_s:5.1f} s after it"
            f" returned (target <= {TARGET_RECOVERY_S:.0f} s)  {verdict(recovery_s <= TARGET_RECOVERY_S)}"
        )
    finally:
        await proxy.close()
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            await delete_topology(await connection.channel(), topology)
        drop_database(url)


def main() -> None:
    """Run the recovery benchmark and print its figures."""
    asyncio.run(run())
    asyncio.run(relay_after_database_outage())


if __name__ == "__main__":
    main()

"""The outbox relay alone in a process of its own, so a benchmark can read its CPU time from /proc.

`python -c "from bench.relay_process import cli; cli()"` with DATABASE_URL, AMQP_URL, QUEUE_PREFIX and
RELAY_BATCH_SIZE / RELAY_HIGH_WATER (0: no high-water mark) / RELAY_JOB_SIZE in the environment. Prints "ready" once
its broker channel is open, relays until SIGTERM, then finishes its batch in hand and exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

import uvloop
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool


async def run() -> None:
    """Relay until SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    topology = Topology(
        prefix=os.environ["QUEUE_PREFIX"],
        retry_delays_s=tuple(json.loads(os.environ.get("RETRY_DELAYS_S", "[1.0,2.0,4.0]"))),
    )
    high_water = int(os.environ.get("RELAY_HIGH_WATER", "20000"))
    settings = RelaySettings(
        batch_size=int(os.environ.get("RELAY_BATCH_SIZE", "1000")),
        high_water=high_water or None,
        job_size=int(os.environ.get("RELAY_JOB_SIZE", str(RelaySettings().job_size))),
    )
    async with AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=4, open=False) as pool:
        metrics = RelayMetrics.register(CollectorRegistry())
        relay = OutboxRelay(pool, os.environ["AMQP_URL"], topology, metrics, settings)
        await relay.room()  # opens the broker connection and declares the topology
        print("ready", flush=True)
        task = asyncio.create_task(relay.run())
        await stop.wait()
        await relay.stop()
        await task


def cli() -> None:
    """Entry point for the benchmarks' subprocess; on uvloop, as uvicorn runs campaign-api's relay."""
    uvloop.run(run())

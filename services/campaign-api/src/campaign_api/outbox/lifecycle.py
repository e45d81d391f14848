"""Running the relay beside the HTTP API: start it with the app, stop it gracefully at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from dispatch_queue import Topology
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from campaign_api.outbox.metrics import RelayMetrics
from campaign_api.outbox.relay import OutboxRelay, RelaySettings


@contextlib.asynccontextmanager
async def relay_running(
    pool: AsyncConnectionPool,
    amqp_url: str,
    registry: CollectorRegistry,
    topology: Topology,
    settings: RelaySettings | None = None,
) -> AsyncIterator[OutboxRelay]:
    """Run an OutboxRelay in the background for the block; on exit it finishes its batch in hand and stops."""
    relay = OutboxRelay(pool, amqp_url, topology, RelayMetrics.register(registry), settings)
    task = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        yield relay
    finally:
        await relay.stop()
        await task

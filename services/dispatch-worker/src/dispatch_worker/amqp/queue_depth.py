"""Queue depth for the gauge: passive declares of every queue of the topology, on a timer."""

from __future__ import annotations

import asyncio
import logging

from aio_pika.abc import AbstractChannel
from dispatch.topology import Topology
from prometheus_client import Gauge

log = logging.getLogger(__name__)


async def watch_queue_depth(channel: AbstractChannel, topology: Topology, gauge: Gauge, interval_s: float) -> None:
    """Set dispatch_queue_depth_messages{queue} for each queue every `interval_s` seconds, until cancelled."""
    while True:
        for name in topology.queue_names():
            try:
                # the underlying channel: a robust channel would answer a passive declare from its cache
                underlay = await channel.get_underlay_channel()
                result = await underlay.queue_declare(name, passive=True)
                gauge.labels(name).set(result.message_count or 0)
            except Exception as exc:  # the gauge is best effort; the broker's own metrics remain
                log.debug("queue depth unavailable", extra={"queue": name, "error": str(exc)})
        await asyncio.sleep(interval_s)

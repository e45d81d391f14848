"""The bare broker's rate: a plain aio-pika client, no database, no relay, no worker.

Publishes N persistent messages (the size of our jobs: an encoded job body, the same content type) with publisher
confirms into a quorum queue of its own, a batch of confirms awaited together as the relay does, then consumes
them with a prefetch window and one ack per message as the worker does. The queue is deleted at the end.
`python -m bench.broker_ceiling` runs it alone; bench_dispatch runs it in the same `make bench` run as the pipeline.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass

import aio_pika
from dispatch.codec import CONTENT_TYPE, encode_job

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/")
MESSAGES = 20_000
PUBLISH_BATCH = 1000
PREFETCH = 512


@dataclass(frozen=True, slots=True)
class BrokerRate:
    """Messages per second, each way."""

    publish: float
    consume: float

    @property
    def round_trip(self) -> float:
        """One message published and consumed, one after the other: what a pipeline that does both pays."""
        return 1 / (1 / self.publish + 1 / self.consume)


async def measure(messages: int = MESSAGES) -> BrokerRate:
    """Publish then consume `messages` on a fresh quorum queue; the rate of each."""
    name = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        try:
            started = time.perf_counter()
            for first in range(1, messages + 1, PUBLISH_BATCH):
                publishes = [
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            encode_job(10_000_000 + i),
                            content_type=CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        name,
                    )
                    for i in range(first, min(first + PUBLISH_BATCH, messages + 1))
                ]
                await asyncio.gather(*publishes)
            published = time.perf_counter() - started

            consumer = await connection.channel()
            await consumer.set_qos(prefetch_count=PREFETCH)
            started = time.perf_counter()
            received = 0
            async with (await consumer.get_queue(name)).iterator() as deliveries:
                async for message in deliveries:
                    await message.ack()
                    received += 1
                    if received == messages:
                        break
            consumed = time.perf_counter() - started
        finally:
            await queue.delete(if_unused=False, if_empty=False)
    return BrokerRate(messages / published, messages / consumed)


def main() -> None:
    """Measure and print the bare broker's rate."""
    rate = asyncio.run(measure())
    print(
        f"bare broker, {MESSAGES} persistent messages, quorum queue: publish with confirms {rate.publish:.0f} msg/s,"
        f" consume with acks {rate.consume:.0f} msg/s (one after the other: {rate.round_trip:.0f} msg/s)"
    )


if __name__ == "__main__":
    main()

"""Queue topology: names derived from one prefix, declared idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange

WORK_ROUTING_KEY: Final = "work"
DEAD_ROUTING_KEY: Final = "dead"
# the priority lane: transactional traffic (one-time codes, order updates) in a queue of its own, consumed first
PRIORITY_ROUTING_KEY: Final = "priority"
DEFAULT_PREFIX: Final = "campaign_sends"


@dataclass(frozen=True, slots=True)
class Topology:
    """Every exchange and queue name of the dispatch pipeline, from one prefix and the retry tier delays."""

    prefix: str = DEFAULT_PREFIX
    retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0)

    @property
    def exchange(self) -> str:
        """The direct exchange every job is published to."""
        return self.prefix

    @property
    def work_queue(self) -> str:
        """The queue workers consume."""
        return self.prefix

    @property
    def priority_queue(self) -> str:
        """The priority lane: transactional campaigns' jobs, which workers take before the work queue's."""
        return f"{self.prefix}.priority"

    @property
    def dead_letter_queue(self) -> str:
        """Jobs that will never be sent: exhausted retries and poison."""
        return f"{self.prefix}.dlq"

    @property
    def tiers(self) -> range:
        """The 1-based retry tier numbers."""
        return range(1, len(self.retry_delays_s) + 1)

    def retry_queue(self, tier: int) -> str:
        """The delay queue of retry tier `tier` (1-based)."""
        self._check_tier(tier)
        return f"{self.prefix}.retry.{tier}"

    def retry_routing_key(self, tier: int) -> str:
        """The routing key that lands a job in retry tier `tier`."""
        self._check_tier(tier)
        return f"retry.{tier}"

    def queue_names(self) -> tuple[str, ...]:
        """The work queue, the priority lane, each retry tier and the DLQ: the fixed set the depth gauge reports."""
        return (
            self.work_queue,
            self.priority_queue,
            *(self.retry_queue(t) for t in self.tiers),
            self.dead_letter_queue,
        )

    def _check_tier(self, tier: int) -> None:
        if tier not in self.tiers:
            raise ValueError(f"retry tier {tier} does not exist (tiers 1..{len(self.retry_delays_s)})")


async def declare_topology(channel: AbstractChannel, topology: Topology) -> AbstractExchange:
    """Declare the exchange, work queue, retry tiers and DLQ with their bindings; safe to call again."""
    exchange = await channel.declare_exchange(topology.exchange, ExchangeType.DIRECT, durable=True)
    # quorum: replicated when RabbitMQ runs as a cluster, and poison-message handling built in
    work = await channel.declare_queue(topology.work_queue, durable=True, arguments={"x-queue-type": "quorum"})
    await work.bind(exchange, WORK_ROUTING_KEY)
    priority = await channel.declare_queue(topology.priority_queue, durable=True, arguments={"x-queue-type": "quorum"})
    await priority.bind(exchange, PRIORITY_ROUTING_KEY)
    for tier, delay_s in zip(topology.tiers, topology.retry_delays_s, strict=True):
        # one TTL per queue, never per message: every job in a tier waits the same, so none blocks another
        retry = await channel.declare_queue(
            topology.retry_queue(tier),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": max(1, round(delay_s * 1000)),
                "x-dead-letter-exchange": topology.exchange,
                "x-dead-letter-routing-key": WORK_ROUTING_KEY,
                # expired jobs move to the work queue at least once, even across a leader change
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        await retry.bind(exchange, topology.retry_routing_key(tier))
    dead = await channel.declare_queue(topology.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
    await dead.bind(exchange, DEAD_ROUTING_KEY)
    return exchange


async def delete_topology(channel: AbstractChannel, topology: Topology) -> None:
    """Remove every queue and the exchange (tests and benchmarks clean up with it)."""
    for name in topology.queue_names():
        await channel.queue_delete(name)
    await channel.exchange_delete(topology.exchange)

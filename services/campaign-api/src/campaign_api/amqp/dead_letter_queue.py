"""The DeadLetterQueue port over RabbitMQ: a replay prunes the DLQ with the dispatch package's prune."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from aio_pika.exceptions import AMQPError
from dispatch.dead_letter_queue import prune_dead_letter_queue
from dispatch.topology import Topology

from campaign_api.repositories.connection import Pool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RabbitDeadLetterQueue:
    """Prunes the topology's DLQ; `pool` is the owner's (the DLQ holds every account's jobs)."""

    pool: Pool
    amqp_url: str
    topology: Topology

    async def prune(self) -> int | None:
        """Jobs removed, or None when the broker or the database did not answer (the next replay prunes)."""
        try:
            return (await prune_dead_letter_queue(self.pool, self.amqp_url, self.topology)).removed
        except (AMQPError, OSError, TimeoutError, psycopg.Error) as exc:
            log.warning("could not prune the dead-letter queue", extra={"error": f"{type(exc).__name__}"})
            return None

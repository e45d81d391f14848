"""Keeping the DLQ in agreement with the database after a replay: jobs of replayed messages leave the queue.

The database is the record of dead letters (outbound_messages.dead_lettered_at); the DLQ holds their jobs for
whoever reads RabbitMQ directly. A prune takes every job the queue held when it started, once: it acks the jobs
whose message is no longer a dead letter (replayed, or sent again by retry-failed) and second copies of one
message, and publishes the rest back (confirmed) before acking them, so a crash midway duplicates a job at worst
(the next prune drops the copy) and never loses one. Jobs that name no message (poison) are kept as they are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from psycopg_pool import AsyncConnectionPool

from dispatch import outbound_messages
from dispatch.codec import PoisonJob, decode_job
from dispatch.publisher import JobPublisher
from dispatch.topology import Topology

log = logging.getLogger(__name__)

BATCH: Final = 500
PASSES: Final = 3


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a prune did: jobs taken off the DLQ, and jobs it kept there."""

    removed: int
    kept: int


def _headers(message: AbstractIncomingMessage) -> Mapping[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (message.headers or {}).items()}


def _message_id(message: AbstractIncomingMessage) -> int | None:
    try:
        return decode_job(message.body)
    except PoisonJob:
        return None


async def prune_dead_letter_queue(pool: AsyncConnectionPool, amqp_url: str, topology: Topology) -> Pruned:
    """Take the DLQ's jobs of messages that are no longer dead letters off it; keep the others, in order.

    `pool` must see every account's rows (the owner's role): the DLQ is shared by all of them.
    """
    removed = 0
    kept = -1
    connection = await aio_pika.connect(amqp_url, timeout=5.0)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        publisher = await JobPublisher.open(channel, topology)
        # a pass visits what the queue holds when it starts; jobs that arrived meanwhile (a worker's dead letter
        # published late, a count the queue had not settled yet) get another pass, a few at most
        for _ in range(PASSES):
            queue = await channel.declare_queue(topology.dead_letter_queue, passive=True)
            to_visit = queue.declaration_result.message_count or 0
            if to_visit <= max(kept, 0):
                break
            dropped, kept = await _prune_pass(pool, queue, publisher, to_visit)
            removed += dropped
        await _settled(queue)
        await channel.close()
    if removed:
        log.info("dead-letter queue pruned", extra={"removed": removed, "kept": max(kept, 0)})
    return Pruned(removed, max(kept, 0))


async def _prune_pass(
    pool: AsyncConnectionPool, queue: AbstractQueue, publisher: JobPublisher, to_visit: int
) -> tuple[int, int]:
    """Visit `to_visit` jobs from the head once: (removed, kept)."""
    removed = kept = 0
    seen: set[int] = set()
    while to_visit > 0:
        batch: list[AbstractIncomingMessage] = []
        while len(batch) < min(BATCH, to_visit):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            batch.append(message)
        if not batch:
            break
        to_visit -= len(batch)
        ids = {i for i in map(_message_id, batch) if i is not None}
        async with pool.connection() as conn:
            dead = await outbound_messages.still_dead(conn, list(ids))
            existing = await outbound_messages.existing_ids(conn, list(ids - dead))
        keep: list[AbstractIncomingMessage] = []
        for message in batch:
            message_id = _message_id(message)
            # poison (no message of that id) stays for an operator to read; a dead letter stays once
            stays = message_id is None or message_id not in existing
            if message_id is not None and message_id in dead:
                stays = message_id not in seen
                seen.add(message_id)
            if stays:
                keep.append(message)
        # the kept jobs are confirmed back in the queue (in their order) before any job of the batch is acked
        await asyncio.gather(*(publisher.publish_raw_dead(m.body, _headers(m)) for m in keep))
        for message in batch:
            await message.ack()
        kept += len(keep)
        removed += len(batch) - len(keep)
    return removed, kept


async def _settled(queue: AbstractQueue) -> None:
    """Return once the broker has applied every ack this channel sent, so closing it returns none of their jobs.

    A quorum queue's channel sends at most 32 commands the queue has not yet applied and holds further acks back
    until it has; a channel closed meanwhile drops the held acks, and their jobs return to the queue (measured: 6
    of 40 jobs in most runs). A basic.get is applied by the queue in order after every command sent before it,
    and answered only then, by which time the channel has sent what it held. A job it takes goes back in the place
    it held (the head).
    """
    message = await queue.get(no_ack=False, fail=False)
    if message is not None:
        await message.nack(requeue=True)

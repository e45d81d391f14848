"""Messages that may not go yet (not_before ahead) and messages that end unsent, against real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from dispatch import outbound_messages
from dispatch.lifecycle import MessageStatus
from dispatch.relay import OutboxRelay, RelayMetrics, RelaySettings
from dispatch.topology import Topology
from psycopg_pool import AsyncConnectionPool

from .conftest import insert_outbox_rows, unpublished
from .test_relay import drain_work_queue, wait_until_published

FAST = RelaySettings(batch_size=200, sweep_interval_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.3)


async def statuses(database_url: str, ids: list[int]) -> dict[int, tuple[str, int, str | None]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT id, status, retry_count, last_error FROM outbound_messages WHERE id = ANY(%s)", (ids,)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in await cur.fetchall()}


async def test_a_deferred_message_is_published_again_only_when_its_time_comes(
    outbox_pool: AsyncConnectionPool, database_url: str, amqp_url: str, topology: Topology, metrics: RelayMetrics
) -> None:
    ids = await insert_outbox_rows(database_url, 3, notify=False)
    later, soon = ids[0], ids[1]
    async with outbox_pool.connection() as conn:
        await conn.execute("UPDATE outbound_messages SET status = 'sending' WHERE id = ANY(%s)", ([later, soon],))
        now = datetime.now(UTC)
        await outbound_messages.defer(
            conn, [(later, now + timedelta(hours=1), "send window closed"), (soon, now + timedelta(seconds=1), "pace")]
        )

    relay = OutboxRelay(outbox_pool, amqp_url, topology, metrics, FAST)
    running = asyncio.create_task(relay.run())
    await wait_until_published(database_url, [ids[2], soon])
    await asyncio.sleep(0.5)  # two more sweeps: the message deferred for an hour stays in the outbox
    await relay.stop()
    await running

    assert await unpublished(database_url, [later]) == 1
    assert sorted(i for i, _ in await drain_work_queue(amqp_url, topology)) == sorted([ids[2], soon])
    # deferring spends no retry and says why the message waits
    assert (await statuses(database_url, [later]))[later] == ("pending", 0, "send window closed")


async def test_ending_unsent_messages_leaves_finished_ones_alone(
    outbox_pool: AsyncConnectionPool, database_url: str
) -> None:
    ids = await insert_outbox_rows(database_url, 3, notify=False)
    async with outbox_pool.connection() as conn:
        await conn.execute("UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE id = %s", (ids[2],))
        ended = await outbound_messages.end_unsent(
            conn, MessageStatus.SUPPRESSED, [(i, "recipient opted out") for i in ids]
        )
    assert ended == 2
    rows = await statuses(database_url, ids)
    assert [rows[i][0] for i in ids] == ["suppressed", "suppressed", "sent"]
    assert rows[ids[0]][2] == "recipient opted out"


async def test_only_the_statuses_of_unsent_messages_may_end_them(outbox_pool: AsyncConnectionPool) -> None:
    async with outbox_pool.connection() as conn:
        with pytest.raises(ValueError, match="never attempted"):
            await outbound_messages.end_unsent(conn, MessageStatus.FAILED, [(1, "x")])

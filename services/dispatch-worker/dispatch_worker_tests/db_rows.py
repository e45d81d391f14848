"""Rows the tests create and read, shaped as the send endpoint writes them."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT

TEMPLATE = "Hi {first_name|there}, {preferred_product|our news} is waiting"


async def seed_campaign(
    database_url: str, count: int, *, channel: str = "sms", template: str = TEMPLATE, published: bool = True
) -> tuple[int, list[int]]:
    """Create `count` customers and a campaign in 'sending' with one message each, as the send endpoint does."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(USE_TEST_ACCOUNT)
        cur = await conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, sending_started_at)"
            " VALUES ('test', %s, 'sending', %s, now()) RETURNING id",
            (channel, template),
        )
        row = await cur.fetchone()
        assert row is not None
        campaign_id = int(row[0])
        cur = await conn.execute(
            "INSERT INTO customers (phone, first_name, preferred_product)"
            " SELECT '+1555' || lpad((nextval('seq_phone') %% 10000000)::text, 7, '0'), 'Ann' || g, 'tea'"
            " FROM generate_series(1, %s) g RETURNING id",
            (count,),
        )
        customer_ids = [r[0] for r in await cur.fetchall()]
        cur = await conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id, status, published_at, traceparent)"
            " SELECT %s, c, 'pending', CASE WHEN %s THEN now() END,"
            " '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'"
            " FROM unnest(%s::bigint[]) c ORDER BY c RETURNING id",
            (campaign_id, published, customer_ids),
        )
        message_ids = sorted(r[0] for r in await cur.fetchall())
    return campaign_id, message_ids


async def statuses(pool: AsyncConnectionPool, ids: Sequence[int]) -> dict[int, tuple[str, int, str | None]]:
    """id → (status, retry_count, rendered_content) of the given messages."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, status, retry_count, rendered_content FROM outbound_messages WHERE id = ANY(%s)", (list(ids),)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in await cur.fetchall()}


async def campaign_state(pool: AsyncConnectionPool, campaign_id: int) -> tuple[str, bool]:
    """(status, completed_at is set) of a campaign."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT status, completed_at IS NOT NULL FROM campaigns WHERE id = %s", (campaign_id,))
        row = await cur.fetchone()
        assert row is not None
        return str(row[0]), bool(row[1])

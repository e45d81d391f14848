"""Rows the tests create and read, shaped as the send endpoint writes them."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT

TEMPLATE = "Hi {first_name|there}, {preferred_product|our news} is waiting"

# like test_kit's USE_TEST_ACCOUNT, for an account of the test's own (default senders are per account)
USE_ACCOUNT = """
    WITH account AS (
        INSERT INTO accounts (name) VALUES (%(name)s)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id
    )
    SELECT set_config('app.account_id', id::text, false) FROM account
"""


async def use_account(conn: psycopg.AsyncConnection[tuple[object, ...]], account: str | None) -> None:
    """Make `account` (created when missing; None: the shared 'tests' account) the connection's account."""
    if account is None:
        await conn.execute(USE_TEST_ACCOUNT)
    else:
        await conn.execute(USE_ACCOUNT, {"name": account})


async def create_sender(
    database_url: str,
    *,
    provider: str = "mock",
    channel: str = "sms",
    address: str = "SHOP",
    throughput_per_s: float = 80,
    is_default: bool = False,
    credentials_ref: str | None = None,
    whatsapp_template: str | None = None,
    account: str | None = None,
) -> int:
    """A senders row as the senders API creates it; returns its id."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await use_account(conn, account)
        cur = await conn.execute(
            "INSERT INTO senders (name, channel, provider, address, credentials_ref, throughput_per_s, is_default,"
            " callback_token, whatsapp_template, whatsapp_template_language)"
            " VALUES ('sender-' || gen_random_uuid(), %s, %s, %s, %s, %s, %s, gen_random_uuid()::text, %s,"
            " CASE WHEN %s::text IS NOT NULL THEN 'en_US' END) RETURNING id",
            (channel, provider, address, credentials_ref, throughput_per_s, is_default, whatsapp_template,
             whatsapp_template),
        )  # fmt: skip
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


async def seed_campaign(
    database_url: str,
    count: int,
    *,
    channel: str = "sms",
    template: str = TEMPLATE,
    published: bool = True,
    sender_id: int | None = None,
    account: str | None = None,
) -> tuple[int, list[int]]:
    """Create `count` customers and a campaign in 'sending' with one message each, as the send endpoint does."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await use_account(conn, account)
        cur = await conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, sending_started_at, sender_id)"
            " VALUES ('test', %s, 'sending', %s, now(), %s) RETURNING id",
            (channel, template, sender_id),
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

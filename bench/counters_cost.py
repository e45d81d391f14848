"""What the counters of migration 0013 cost the drain: the worker's claim and outcome writes (batches of 128 from
several connections at once, as the worker's loops and replicas run them) with the counting triggers on, then off.

`python -m bench.counters_cost` (part of `make bench-scale`). CONNECTIONS writers share one campaign, so every
statement of every writer changes the counts of the same (campaign, status) keys: the case a shared counter row
would serialise.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import psycopg
from campaign_api.migrations import apply_migrations
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import PostgresDsn
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import ADMIN_URL, as_url

MESSAGES = int(os.environ.get("COUNTERS_MESSAGES", "200000"))
CONNECTIONS = 4
BATCH = 128
TRIGGERS = ("outbound_messages_count_insert", "outbound_messages_count_update", "outbound_messages_count_delete")

CLAIM = """
    UPDATE outbound_messages SET status = 'sending', claimed_at = now()
    WHERE id IN (SELECT id FROM outbound_messages WHERE campaign_id = %s AND status = 'pending'
                 ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
    RETURNING id
"""
MARK_SENT = "UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE id = ANY(%s) AND status = 'sending'"


def load(url: str) -> int:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(USE_TEST_ACCOUNT)
        with cur.copy("COPY customers (phone) FROM STDIN") as copy:
            for i in range(MESSAGES):
                copy.write_row((f"+2547{10_000_000 + i:08d}",))
        cur.execute(
            "INSERT INTO campaigns (name, channel, status, base_template) VALUES ('c', 'sms', 'sending', 'Hi')"
            " RETURNING id"
        )
        campaign = (cur.fetchone() or (0,))[0]
        cur.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id) SELECT %s, id FROM customers", (campaign,)
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return int(campaign)


async def writer(url: str, campaign: int, stop_at: float) -> int:
    done = 0
    async with await psycopg.AsyncConnection.connect(url) as conn:
        while time.monotonic() < stop_at:
            async with conn.transaction():
                ids = [r[0] for r in await (await conn.execute(CLAIM, (campaign, BATCH))).fetchall()]
            if not ids:
                break
            async with conn.transaction():
                await conn.execute(MARK_SENT, (ids,))
            done += len(ids)
    return done


async def rate(url: str, campaign: int, seconds: float) -> float:
    started = time.monotonic()
    done = await asyncio.gather(*(writer(url, campaign, started + seconds) for _ in range(CONNECTIONS)))
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    dbname = f"bench_counters_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            url = as_url(make_conninfo(ADMIN_URL, dbname=dbname))
            apply_migrations(PostgresDsn(url))
            campaign = load(url)
            seconds = float(os.environ.get("COUNTERS_SECONDS", "8"))
            rates = {}
            for label, toggle in (("on", "ENABLE"), ("off", "DISABLE"), ("on again", "ENABLE")):
                with psycopg.connect(url, autocommit=True) as conn:
                    for trigger in TRIGGERS:
                        conn.execute(
                            sql.SQL("ALTER TABLE outbound_messages {} TRIGGER {}").format(
                                sql.SQL(toggle), sql.Identifier(trigger)
                            )
                        )
                rates[label] = asyncio.run(rate(url, campaign, seconds))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    for label, value in rates.items():
        print(f"claim + mark sent, {CONNECTIONS} writers, batches of {BATCH}, counters {label}: {value:,.0f} msg/s")


if __name__ == "__main__":
    main()

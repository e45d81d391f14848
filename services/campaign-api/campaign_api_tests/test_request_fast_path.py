"""What keeps a request off the database's round trips, and the guarantees it must keep: rate-limit hits taken in
blocks never let a key past its limit on any replica, a cached key revoked elsewhere is refused once the cache's
time has passed, and a pooled connection the server dropped is replaced before a request gets it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
from campaign_api.accounts import Scope
from campaign_api.main import create_app, create_key, open_pool
from campaign_api.repositories.connection import account_reading
from campaign_api.settings import Settings
from campaign_api.usecases.authenticate import Authenticate, KeyCache, RateLimits
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import KeyedAccount, assert_error, new_account

LONG_WINDOW_S = 10**8


@contextlib.asynccontextmanager
async def replica(settings: Settings, key: str, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """One more campaign-api process (its own app, pools and caches) and a client with the key."""
    app: FastAPI = create_app(settings.model_copy(update=changes), registry=CollectorRegistry())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as http:
            yield http


async def test_hits_taken_in_blocks_never_let_a_key_past_its_limit_on_any_replica(settings: Settings) -> None:
    account = await new_account(settings, "blocks")
    limit = 300  # each process takes 3 hits of the shared window at a time
    limits = {"rate_limit_window_s": LONG_WINDOW_S, "rate_limit_requests": limit}
    async with replica(settings, account.key, **limits) as first, replica(settings, account.key, **limits) as second:
        answers = [await (first if i % 2 else second).get("/campaigns?page_size=1") for i in range(limit + 10)]
    served = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code != 200]
    # never more than the limit; at most one unspent hit short of a block per process is lost to the other
    assert limit - 2 * 2 <= len(served) <= limit
    for response in refused:
        assert_error(response, 429, "RATE_LIMITED")
        assert int(response.headers["retry-after"]) >= 1
    # once the shared window is spent, both replicas refuse
    assert [r.status_code for r in answers[-4:]] == [429] * 4


async def test_a_key_revoked_through_another_process_is_refused_once_the_cache_time_has_passed(
    settings: Settings, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    account = await new_account(settings, "cached")
    key = await create_key(settings, str(account.id), frozenset({Scope.CAMPAIGNS_READ}), "cached")
    now = [1000.0]
    pool = open_pool(settings)
    await pool.open()
    try:
        authenticate = Authenticate(pool, RateLimits(LONG_WINDOW_S), KeyCache(2.0, timer=lambda: now[0]))
        caller = await authenticate(key)
        assert caller is not None and caller.account_id == account.id
        # another replica revokes it: this process goes on trusting what it looked up for at most the cache time
        await db.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE account_id = %s AND name = 'cached'", (account.id,)
        )
        now[0] += 2.5
        assert await authenticate(key) is None
    finally:
        await pool.close()


async def wait_idle_connections(db: psycopg.AsyncConnection[tuple[Any, ...]], application: str, count: int) -> None:
    """Until `count` connections of that application name sit idle in the server (the pool has filled)."""
    for _ in range(200):
        cur = await db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state = 'idle'", (application,)
        )
        if ((await cur.fetchone()) or (0,))[0] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the pool never held {count} idle connections")


async def test_a_request_whose_pooled_connection_the_server_dropped_is_answered(
    settings: Settings, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    account = await new_account(settings, "dropped")
    # the replica's connections are recognisable by their application name
    base = str(settings.database_url)
    url = f"{base}{'&' if '?' in base else '?'}application_name=fast-path-test"
    async with replica(settings, account.key, database_url=url, db_pool_min_size=2) as http:
        assert (await http.get("/campaigns")).status_code == 200
        # both of the pool's connections made and idle first: one cut while the pool is still making it fails
        # the pool's own connect, which is a different story (its reconnect backoff), not the checkout's check
        await wait_idle_connections(db, "fast-path-test", 2)
        cur = await db.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE application_name = 'fast-path-test' AND pid <> pg_backend_pid()) AS t"
        )
        assert ((await cur.fetchone()) or (0,))[0] >= 1
        # the idle connections are dead: the checkout notices and connects anew. While the pool is still making its
        # new connections a request may wait past the pool's timeout and answer 503 in the API's error shape (never
        # a 500, never a hang); within seconds the answers are 200 again, and stay so
        recovered = False
        for _ in range(100):
            answer = await http.get("/campaigns")
            if answer.status_code == 200:
                recovered = True
                break
            assert_error(answer, 503, "DATABASE_UNAVAILABLE")
        assert recovered, "the API never answered again after its pooled connections were dropped"
        for _ in range(3):
            assert (await http.get("/campaigns")).status_code == 200


async def test_a_read_binds_its_account_for_the_whole_block_and_hands_the_connection_back_as_it_took_it(
    settings: Settings, client: httpx.AsyncClient, account: KeyedAccount
) -> None:
    created = await client.post("/campaigns", json={"name": "fast read", "channel": "sms", "base_template": "Hi"})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    # one connection: the one the read used is the one looked at after
    pool = open_pool(settings.model_copy(update={"db_pool_min_size": 1, "db_pool_max_size": 1}))
    await pool.open()
    try:
        async with account_reading(pool, account.id) as conn:
            statement = "SELECT count(*) FROM campaigns WHERE id = %s"
            sent_before = await conn.execute(statement, (campaign_id,))
            assert await sent_before.fetchone() == (1,)
            # a fetch only flushes: the implicit transaction, and the account's binding, last until the block ends
            sent_after = await conn.execute(statement, (campaign_id,))
            assert await sent_after.fetchone() == (1,)
        async with pool.connection() as conn:
            assert not conn.autocommit
            assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
            cur = await conn.execute("SELECT count(*) FROM campaigns WHERE id = %s", (campaign_id,))
            assert await cur.fetchone() == (0,)  # nothing bound on the pooled connection
    finally:
        await pool.close()

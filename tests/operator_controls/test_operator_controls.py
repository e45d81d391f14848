"""An operator stops, resumes and cancels a campaign that two workers are sending, and replays its dead letters
after a provider outage; a transactional message overtakes a 100,000-message promotional backlog. Real
PostgreSQL, RabbitMQ, template-svc and dispatch-worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aio_pika
import httpx
import psycopg
import pytest
from dispatch.topology import Topology
from dispatch_worker_tests.db_rows import seed_campaign
from dispatch_worker_tests.integration.pipeline import (
    SendLog,
    running_relay,
    start_worker,
    stop_worker,
    wait_campaign_done,
    wait_terminal,
)
from psycopg_pool import AsyncConnectionPool
from test_kit.accounts import USE_TEST_ACCOUNT

# a gentle send (each worker has at most 16 attempts in flight, each taking about 100 ms), so the campaign is still
# going out seconds after it started, and a pause lands while attempts are in flight
STEADY = {
    "MOCK_SUCCESS_PROBABILITY": "1.0",
    "MOCK_LATENCY": "uniform",
    "MOCK_LATENCY_MEAN_MS": "100",
    "BATCH_SIZE": "8",
    "CONCURRENCY": "2",
    "PREFETCH": "32",
}


Workers = Callable[..., contextlib.AbstractAsyncContextManager[None]]


@pytest.fixture
def workers(database_url: str, amqp_url: str, template_svc_addr: str, topology: Topology, log: Path) -> Workers:
    """`workers(count, **env)`: that many dispatch-worker processes of this test's topology for the block, each
    logging its sends to `log`, stopped gracefully afterwards."""

    @contextlib.asynccontextmanager
    async def running(count: int, **env: str) -> AsyncIterator[None]:
        started = [start_worker(database_url, amqp_url, template_svc_addr, topology, log, **env) for _ in range(count)]
        try:
            yield
        finally:
            for process in started:
                await asyncio.to_thread(stop_worker, process)

    return running


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """Where the test's workers log every send attempt."""
    return tmp_path / "sends.log"


def lines(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


async def wait_for(what: str, check: Callable[[], object], timeout_s: float = 60.0) -> None:
    """Poll `check` (sync or async) until it is truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def count(pool: AsyncConnectionPool, campaign_id: int, where: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT count(*) FROM outbound_messages WHERE campaign_id = %s AND {where}",
            (campaign_id,),
        )
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def stopped_and_settled(pool: AsyncConnectionPool, campaign_id: int) -> bool:
    """Nothing of the campaign is in flight, and no job of it is left in the broker (every one was refused)."""
    return (
        await count(pool, campaign_id, "(status = 'sending' OR (status = 'pending' AND published_at IS NOT NULL))") == 0
    )


async def test_pause_with_two_workers_stops_sending_beyond_the_attempts_in_flight_and_resume_finishes(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    topology: Topology,
    operator: httpx.AsyncClient,
    workers: Workers,
    log: Path,
) -> None:
    total = 1000
    campaign_id, _ = await seed_campaign(database_url, total, published=False)

    async with running_relay(pool, amqp_url, topology), workers(2, **STEADY):
        await wait_for("the send to be under way", lambda: lines(log) >= 100)

        paused = await operator.post(f"/campaigns/{campaign_id}/pause")
        assert paused.status_code == 200, paused.text
        # the attempts in flight when the pause committed: claimed (sending) now, or already written to the log
        in_flight = await count(pool, campaign_id, "status = 'sending'")
        attempted_at_pause = lines(log)

        # every worker refused the campaign's jobs in the broker, and the attempts in flight ended
        await wait_for("the paused campaign to settle", lambda: stopped_and_settled(pool, campaign_id))
        detail = (await operator.get(f"/campaigns/{campaign_id}")).json()
        assert detail["status"] == "paused"
        # nothing was attempted after the pause beyond what was in flight; the rest waits, pending
        attempted_while_paused = lines(log)
        assert attempted_while_paused <= attempted_at_pause + in_flight
        assert detail["stats"]["sent"] == attempted_while_paused
        assert detail["stats"]["pending"] == total - attempted_while_paused > 0
        # the counts stay frozen while it is paused
        await asyncio.sleep(0.5)  # a window in which a worker that ignored the pause would have sent
        assert lines(log) == attempted_while_paused

        resumed = await operator.post(f"/campaigns/{campaign_id}/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "sending"
        counts = await wait_terminal(pool, campaign_id, timeout_s=120)

    assert counts == {"sent": total}
    assert await wait_campaign_done(pool, campaign_id) == "sent"
    sends = SendLog.read(log)
    assert sends.delivered_twice() == 0  # resume continued where it stopped: nobody got the message twice
    assert sends.total()[True] == total


async def test_cancel_with_two_workers_ends_the_rest_cancelled_and_the_campaign_stays_cancelled(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    topology: Topology,
    operator: httpx.AsyncClient,
    workers: Workers,
    log: Path,
) -> None:
    total = 1000
    campaign_id, _ = await seed_campaign(database_url, total, published=False)

    async with running_relay(pool, amqp_url, topology), workers(2, **STEADY):
        await wait_for("the send to be under way", lambda: lines(log) >= 100)
        cancelled = await operator.post(f"/campaigns/{campaign_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        in_flight = await count(pool, campaign_id, "status = 'sending'")
        attempted_at_cancel = lines(log)
        counts = await wait_terminal(pool, campaign_id, timeout_s=60)
        await wait_for("the broker to drain", lambda: stopped_and_settled(pool, campaign_id))

    assert lines(log) <= attempted_at_cancel + in_flight
    assert counts["sent"] == lines(log) and counts["cancelled"] == total - counts["sent"] > 0
    assert set(counts) == {"sent", "cancelled"}
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT status FROM campaigns WHERE id = %s", (campaign_id,))
        assert await cur.fetchone() == ("cancelled",)


async def dlq_depth(amqp_url: str, topology: Topology) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(topology.dead_letter_queue, passive=True)
        return queue.declaration_result.message_count or 0


async def dlq_holds(amqp_url: str, topology: Topology, jobs: int) -> bool:
    return await dlq_depth(amqp_url, topology) == jobs


async def test_after_a_provider_outage_the_dead_letters_are_replayed_and_the_dlq_agrees(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    topology: Topology,
    operator: httpx.AsyncClient,
    workers: Workers,
    log: Path,
) -> None:
    total = 40
    campaign_id, ids = await seed_campaign(database_url, total, published=False)
    outage = {"MOCK_SUCCESS_PROBABILITY": "0.0", "MOCK_LATENCY_MEAN_MS": "0"}

    async with running_relay(pool, amqp_url, topology):
        async with workers(1, **outage):
            assert await wait_terminal(pool, campaign_id, timeout_s=60) == {"failed": total}
            await wait_for("every job in the DLQ", lambda: dlq_holds(amqp_url, topology, total))
        assert await wait_campaign_done(pool, campaign_id) == "failed"

        letters = (await operator.get("/dead-letters", params={"campaign_id": campaign_id, "limit": 100})).json()
        assert sorted(d["id"] for d in letters["data"]) == ids
        assert {(d["reason"], d["attempts"]) for d in letters["data"]} == {("exhausted", 1 + len(topology.tiers))}
        assert all(d["last_error"] == "mock provider: simulated delivery failure" for d in letters["data"])

        replay = await operator.post("/dead-letters/replay", json={"campaign_id": campaign_id})
        assert replay.status_code == 200, replay.text
        assert (replay.json()["replayed"], replay.json()["removed_from_dlq"]) == (total, total)
        # the acks of the removed letters reach the quorum queue's count a moment after the answer
        await wait_for("the DLQ empty after the replay", lambda: dlq_holds(amqp_url, topology, 0))

        async with workers(1, MOCK_SUCCESS_PROBABILITY="1.0"):
            assert await wait_terminal(pool, campaign_id, timeout_s=60) == {"sent": total}
        assert await wait_campaign_done(pool, campaign_id) == "sent"

    assert await dlq_depth(amqp_url, topology) == 0
    assert (await operator.get("/dead-letters", params={"campaign_id": campaign_id})).json()["data"] == []
    assert (await operator.post("/dead-letters/replay", json={"campaign_id": campaign_id})).json()["replayed"] == 0


async def queue_transactional_message(database_url: str) -> tuple[int, float]:
    """A one-message transactional campaign, committed (and the relay woken) now: (message id, commit time)."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(USE_TEST_ACCOUNT)
        cur = await conn.execute(
            "WITH c AS (INSERT INTO campaigns (name, channel, status, base_template, category, sending_started_at)"
            " VALUES ('one-time code', 'sms', 'sending', 'Your code is 4711', 'transactional', now()) RETURNING id),"
            " cu AS (INSERT INTO customers (phone) VALUES"
            " ('+1555' || lpad((nextval('seq_phone') % 10000000)::text, 7, '0')) RETURNING id)"
            " INSERT INTO outbound_messages (campaign_id, customer_id) SELECT c.id, cu.id FROM c, cu RETURNING id"
        )
        row = await cur.fetchone()
        assert row is not None
        await conn.execute("SELECT pg_notify('outbox', 'transactional')")
        await conn.commit()
        return int(row[0]), time.time()


async def sent(pool: AsyncConnectionPool, message_id: int) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT status FROM outbound_messages WHERE id = %s", (message_id,))
        return await cur.fetchone() == ("sent",)


async def test_a_transactional_message_overtakes_a_100000_message_promotional_backlog(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    topology: Topology,
    workers: Workers,
    log: Path,
) -> None:
    backlog = 100_000
    promotional, _ = await seed_campaign(database_url, backlog, published=False)
    fast = {"MOCK_SUCCESS_PROBABILITY": "1.0", "MOCK_LATENCY_MEAN_MS": "0"}

    async with running_relay(pool, amqp_url, topology), workers(1, **fast):
        await wait_for("the backlog to drain", lambda: lines(log) >= 2000, timeout_s=120)
        message_id, queued_at = await queue_transactional_message(database_url)
        await wait_for("the transactional message", lambda: sent(pool, message_id), timeout_s=60)
        unsent_promotional = await count(pool, promotional, "status IN ('pending', 'sending')")

    sends = SendLog.read(log)
    started = sends.attempts[message_id][0][1]
    promotional_before = sum(1 for i, tries in sends.attempts.items() if i != message_id and tries[0][1] < started)
    # it did not wait its turn behind the backlog: most of the promotional campaign was still to go
    assert promotional_before < backlog / 2 and unsent_promotional > backlog / 4
    # and it started within 2 s of being queued (measured on a loaded two-core machine; typically well under)
    assert started - queued_at < 2.0, f"the transactional message waited {started - queued_at:.2f} s"

"""A sender's throughput limit holds across worker replicas: two dispatch-worker processes, one sender, one bucket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dispatch.topology import Topology
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import create_sender, seed_campaign
from dispatch_worker_tests.integration.pipeline import (
    remove_topology,
    running_relay,
    start_worker,
    stop_worker,
    wait_terminal,
)

LIMIT = 50.0  # segments per second
MESSAGES = 1000
# GSM-7, 200 characters or so once rendered: two segments (153 characters each) per message
TWO_SEGMENTS = (
    "Hi {first_name}, " + "our winter collection is in the shops from today with twenty percent off " * 2 + "x" * 20
)
WARM_UP_S = 1.0


@pytest.fixture
async def topology(amqp_url: str, run_id: str) -> AsyncIterator[Topology]:
    declared = Topology(prefix=f"test_bucket_{run_id}", retry_delays_s=(0.2, 0.4, 0.6))
    yield declared
    await remove_topology(amqp_url, declared)


async def test_two_workers_together_send_at_the_senders_rate_and_no_faster(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    sender_id = await create_sender(database_url, provider="mock", throughput_per_s=LIMIT)
    campaign_id, _ = await seed_campaign(
        database_url, MESSAGES, template=TWO_SEGMENTS, sender_id=sender_id, published=False
    )
    env = {
        "MOCK_LATENCY_MEAN_MS": "0",
        "MOCK_SUCCESS_PROBABILITY": "1.0",
        # small batches: each batch's outcome commit stamps its messages' sent_at, so the timestamps are fine-grained
        "BATCH_SIZE": "10",
        # a window smaller than the campaign (4 deliveries of 16 messages), so the first replica to consume cannot
        # take every job
        "PREFETCH": "4",
    }
    workers = [
        start_worker(database_url, amqp_url, template_svc_addr, topology, tmp_path / f"sends-{n}.log", **env)
        for n in range(2)
    ]
    try:
        async with running_relay(pool, amqp_url, topology):
            counts = await wait_terminal(pool, campaign_id, timeout_s=180)
    finally:
        await asyncio.gather(*(asyncio.to_thread(stop_worker, w) for w in workers))
    assert counts == {"sent": MESSAGES}
    assert all(w.returncode == 0 for w in workers)
    # both replicas took part: each logged sends
    assert all((tmp_path / f"sends-{n}.log").read_text().strip() for n in range(2))

    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT extract(epoch FROM sent_at)::float8, segments, sender_id FROM outbound_messages"
            " WHERE campaign_id = %s ORDER BY sent_at",
            (campaign_id,),
        )
        rows = [(float(r[0]), int(r[1]), r[2]) for r in await cur.fetchall()]
    assert {(segments, sender) for _, segments, sender in rows} == {(2, sender_id)}
    # the rate from the stored timestamps, after the first second: segments committed after the window's first
    # commit, over the time from that commit to the last
    first = rows[0][0]
    steady = [(at, segments) for at, segments, _ in rows if at >= first + WARM_UP_S]
    window_start, window_end = steady[0][0], steady[-1][0]
    segments_in_window = sum(segments for at, segments in steady if at > window_start)
    rate = segments_in_window / (window_end - window_start)
    assert 0.9 * LIMIT <= rate <= 1.05 * LIMIT, f"aggregate rate {rate:.1f} segments/s against a limit of {LIMIT}"

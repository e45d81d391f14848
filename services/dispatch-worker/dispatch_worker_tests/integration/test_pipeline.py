"""End to end on real PostgreSQL, RabbitMQ and template-svc: outbox rows → relay → worker process → terminal."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from dispatch.relay import RelaySettings
from dispatch.topology import Topology
from psycopg_pool import AsyncConnectionPool
from test_kit.tcp_proxy import CuttableProxy

from dispatch_worker_tests.db_rows import seed_campaign
from dispatch_worker_tests.integration.pipeline import (
    SendLog,
    remove_topology,
    running_relay,
    start_worker,
    stop_worker,
    wait_campaign_done,
    wait_terminal,
)

TIERS = (0.2, 0.4, 0.6)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str) -> tuple[int, str]:
    """GET a probe endpoint of the worker, retrying while its server starts."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on port {port}")


@pytest.fixture
async def topology(amqp_url: str, run_id: str) -> AsyncIterator[Topology]:
    """This test's own queues, with short retry tiers; deleted afterwards."""
    declared = Topology(prefix=f"test_worker_{run_id}", retry_delays_s=TIERS)
    yield declared
    await remove_topology(amqp_url, declared)


async def test_500_messages_reach_a_terminal_state_and_the_campaign_completes(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 500, published=False)
    log_path = tmp_path / "sends.log"
    probe_port = free_port()
    worker = start_worker(
        database_url,
        amqp_url,
        template_svc_addr,
        topology,
        log_path,
        MOCK_LATENCY_MEAN_MS="5",
        PROBE_PORT=str(probe_port),
    )
    try:
        async with running_relay(pool, amqp_url, topology):
            counts = await wait_terminal(pool, campaign_id, timeout_s=60)
        ready = await asyncio.to_thread(http_get, probe_port, "/ready")
        metrics = await asyncio.to_thread(http_get, probe_port, "/metrics")
    finally:
        await asyncio.to_thread(stop_worker, worker)
    assert ready[0] == 200
    assert json.loads(ready[1])["checks"] == {"database": "ok", "broker": "ok", "template-svc": "ok"}
    assert 'dispatch_messages_sent_total{channel="sms"}' in metrics[1]
    assert f'dispatch_queue_depth_messages{{queue="{topology.dead_letter_queue}"}}' in metrics[1]
    assert worker.returncode == 0  # SIGTERM: a clean, graceful exit
    assert sum(counts.values()) == 500
    assert counts.get("sent", 0) >= 480  # 0.92 per attempt, four attempts: failing all four is rare
    assert await wait_campaign_done(pool, campaign_id) == "sent"
    log = SendLog.read(log_path)
    assert log.delivered_twice() == 0
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT m.rendered_content, cu.first_name FROM outbound_messages m"
            " JOIN customers cu ON cu.id = m.customer_id WHERE m.id = ANY(%s) AND m.status = 'sent'",
            (ids,),
        )
        rendered = await cur.fetchall()
    # every delivered message carries its own customer's rendering, stored by the worker
    assert len(rendered) == counts["sent"]
    assert all(content == f"Hi {first_name}, tea is waiting" for content, first_name in rendered)


async def test_retries_wait_at_least_each_tier_ttl(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    campaign_id, _ = await seed_campaign(database_url, 60, published=False)
    log_path = tmp_path / "sends.log"
    worker = start_worker(
        database_url,
        amqp_url,
        template_svc_addr,
        topology,
        log_path,
        MOCK_SUCCESS_PROBABILITY="0.4",
        MOCK_LATENCY_MEAN_MS="0",
    )
    try:
        async with running_relay(pool, amqp_url, topology):
            counts = await wait_terminal(pool, campaign_id, timeout_s=60)
    finally:
        await asyncio.to_thread(stop_worker, worker)
    log = SendLog.read(log_path)
    gaps_by_tier: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for tries in log.attempts.values():
        assert len(tries) <= 4  # one attempt plus three retries
        for tier, (before, after) in enumerate(itertools.pairwise(tries), start=1):
            gaps_by_tier[tier].append(after[1] - before[1])
    for tier, gaps in gaps_by_tier.items():
        assert gaps, f"no retry observed in tier {tier}"
        assert min(gaps) >= TIERS[tier - 1], f"tier {tier}: a retry came back after {min(gaps):.3f}s"
    assert counts.get("failed", 0) == sum(1 for tries in log.attempts.values() if not any(ok for ok, _ in tries))


async def test_a_worker_killed_mid_batch_loses_nothing_and_resends_at_most_its_prefetch(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    prefetch = 4  # deliveries of 16 messages (the relay's default job size): 64 messages in hand
    window = prefetch * RelaySettings().job_size
    campaign_id, _ = await seed_campaign(database_url, 500, published=False)
    log_path = tmp_path / "sends.log"
    settings = {
        "PREFETCH": str(prefetch),
        "MOCK_SUCCESS_PROBABILITY": "1.0",
        # spread sends over a batch's lifetime, so the kill lands between some sends and their commit
        "MOCK_LATENCY": "uniform",
        "MOCK_LATENCY_MEAN_MS": "40",
        "CLAIM_LEASE_S": "300",
    }
    first = start_worker(database_url, amqp_url, template_svc_addr, topology, log_path, **settings)
    async with running_relay(pool, amqp_url, topology):
        for _ in range(300):
            if log_path.exists() and len(log_path.read_text().splitlines()) >= 100:
                break
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = start_worker(database_url, amqp_url, template_svc_addr, topology, log_path, **settings)
        try:
            counts = await wait_terminal(pool, campaign_id, timeout_s=60)
        finally:
            await asyncio.to_thread(stop_worker, second)
    assert counts == {"sent": 500}
    assert await wait_campaign_done(pool, campaign_id) == "sent"
    duplicates = SendLog.read(log_path).delivered_twice()
    assert duplicates <= window, f"{duplicates} messages were sent twice, more than the {window} in the prefetch window"


async def test_postgresql_unreachable_pauses_the_worker_without_spending_retries(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    parts = urlsplit(database_url)
    proxy = CuttableProxy(parts.hostname or "localhost", parts.port or 5432)
    await proxy.start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    campaign_id, ids = await seed_campaign(database_url, 200, published=False)
    log_path = tmp_path / "sends.log"
    worker = start_worker(
        via_proxy,
        amqp_url,
        template_svc_addr,
        topology,
        log_path,
        MOCK_SUCCESS_PROBABILITY="1.0",
        MOCK_LATENCY_MEAN_MS="0",
        PLATFORM_BACKOFF_MAX_S="0.5",
    )
    try:
        await asyncio.sleep(2.0)  # the worker is up and consuming
        proxy.cut()
        async with running_relay(pool, amqp_url, topology):
            await asyncio.sleep(2.0)  # jobs arrive while the worker cannot reach PostgreSQL
            assert not log_path.exists() or not log_path.read_text()
            proxy.restore()
            counts = await wait_terminal(pool, campaign_id, timeout_s=30)
    finally:
        await asyncio.to_thread(stop_worker, worker)
        await proxy.close()
    assert counts == {"sent": 200}
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT max(retry_count) FROM outbound_messages WHERE id = ANY(%s)", (ids,))
        row = await cur.fetchone()
    assert row == (0,)  # the outage spent no send retry
    assert SendLog.read(log_path).delivered_twice() == 0


async def test_sigterm_mid_batch_finishes_the_batches_in_hand_and_nothing_is_sent_twice(
    pool: AsyncConnectionPool,
    database_url: str,
    amqp_url: str,
    template_svc_addr: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 400, published=False)
    log_path = tmp_path / "sends.log"
    settings = {"MOCK_SUCCESS_PROBABILITY": "1.0", "MOCK_LATENCY": "uniform", "MOCK_LATENCY_MEAN_MS": "100"}
    first = start_worker(database_url, amqp_url, template_svc_addr, topology, log_path, **settings)
    async with running_relay(pool, amqp_url, topology):
        # the worker's start (its imports) can take many seconds on a loaded machine: wait for its sends, generously
        for _ in range(6000):
            if log_path.exists() and len(log_path.read_text().splitlines()) >= 50:
                break
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 20) == 0
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM outbound_messages WHERE id = ANY(%s) AND status = 'sending'", (ids,)
            )
            assert await cur.fetchone() == (0,)  # every batch in hand was recorded before the exit
        second = start_worker(database_url, amqp_url, template_svc_addr, topology, log_path, **settings)
        try:
            counts = await wait_terminal(pool, campaign_id, timeout_s=60)
        finally:
            await asyncio.to_thread(stop_worker, second)
    assert counts == {"sent": 400}
    assert SendLog.read(log_path).delivered_twice() == 0

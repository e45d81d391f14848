"""Scheduling scenarios: real schedulers (the composition root) against a campaign-api over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from scheduler.main import run
from scheduler.settings import Settings

from scheduler_tests.integration.server_under_test import CampaignServer

POLL_INTERVAL_S = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running_scheduler(
    base_url: str, api_key: str | None, probe_port: int = 0
) -> AsyncIterator[CollectorRegistry]:
    """A whole scheduler (probes, HTTP client, tick loop) in this event loop; yields its metrics registry."""
    settings = Settings(
        campaign_api_url=base_url,
        probe_host="127.0.0.1",
        probe_port=probe_port,
        poll_interval_s=POLL_INTERVAL_S,
        scheduler_api_key=None if api_key is None else SecretStr(api_key),
    )
    registry = CollectorRegistry()
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop, registry=registry))
    try:
        yield registry
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Poll check until it holds; fail naming what never happened."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s} s")
        await asyncio.sleep(0.02)


async def statuses(server: CampaignServer, ids: list[int]) -> list[str]:
    return [await server.status(campaign_id) for campaign_id in ids]


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_due_campaign_is_dispatched_within_seconds_and_a_future_one_is_untouched(
    campaign_server: CampaignServer,
) -> None:
    scheduled_at = datetime.now(UTC) + timedelta(seconds=1)
    soon = await campaign_server.create_scheduled("soon", scheduled_at)
    later = await campaign_server.create_scheduled("later", datetime.now(UTC) + timedelta(hours=1))

    async with running_scheduler(campaign_server.base_url, campaign_server.api_key) as registry:
        assert await campaign_server.status(soon) == "scheduled"
        await eventually(lambda: _is(campaign_server, soon, "sending"), what=f"dispatch of campaign {soon}")
        dispatched_after = datetime.now(UTC) - scheduled_at

    assert dispatched_after < timedelta(seconds=5)
    assert await campaign_server.dispatch_count(soon) == 1
    assert await campaign_server.status(later) == "scheduled"
    assert await campaign_server.dispatch_count(later) == 0
    assert metric(registry, "scheduler_campaigns_dispatched_total") == 1
    assert 0 <= metric(registry, "scheduler_dispatch_lag_seconds_sum") < 5


async def test_two_schedulers_dispatch_each_campaign_exactly_once(campaign_server: CampaignServer) -> None:
    now = datetime.now(UTC)
    # some already due when both start, some falling due while both poll
    ids = [await campaign_server.create_scheduled(f"race {i}", now - timedelta(seconds=i)) for i in range(12)]
    ids += [await campaign_server.create_scheduled(f"race {i}", now + timedelta(seconds=0.3)) for i in range(12, 24)]

    async with (
        running_scheduler(campaign_server.base_url, campaign_server.api_key) as first,
        running_scheduler(campaign_server.base_url, campaign_server.api_key) as second,
    ):
        await eventually(
            lambda: _all(campaign_server, ids, "sending"), what="dispatch of all 24 campaigns by two schedulers"
        )
        await asyncio.sleep(5 * POLL_INTERVAL_S)  # both keep polling: nothing goes out twice

    assert [await campaign_server.dispatch_count(campaign_id) for campaign_id in ids] == [1] * len(ids)
    dispatched = [metric(r, "scheduler_campaigns_dispatched_total") for r in (first, second)]
    assert sum(dispatched) == len(ids)


async def test_campaigns_that_fell_due_while_no_scheduler_ran_are_sent_when_one_starts(
    campaign_server: CampaignServer,
) -> None:
    now = datetime.now(UTC)
    missed = [
        await campaign_server.create_scheduled("two hours ago", now - timedelta(hours=2)),
        await campaign_server.create_scheduled("ten minutes ago", now - timedelta(minutes=10)),
        await campaign_server.create_scheduled("a second ago", now - timedelta(seconds=1)),
    ]

    async with running_scheduler(campaign_server.base_url, campaign_server.api_key) as registry:
        await eventually(lambda: _all(campaign_server, missed, "sending"), what="catch-up of missed campaigns")

    assert [await campaign_server.dispatch_count(campaign_id) for campaign_id in missed] == [1, 1, 1]
    # the lag tells the operator how late the catch-up was
    assert metric(registry, "scheduler_dispatch_lag_seconds_count") == 3
    assert metric(registry, "scheduler_dispatch_lag_seconds_sum") >= 2 * 3600 + 10 * 60
    assert metric(registry, "scheduler_dispatch_lag_seconds_bucket", le="3600.0") == 2


async def test_a_due_campaign_without_audience_is_failed_with_a_reason_and_counted(
    campaign_server: CampaignServer,
) -> None:
    nobody = await campaign_server.create_scheduled(
        "no audience", datetime.now(UTC) - timedelta(seconds=1), with_audience=False
    )

    async with running_scheduler(campaign_server.base_url, campaign_server.api_key) as registry:
        await eventually(lambda: _is(campaign_server, nobody, "failed"), what="failing the audience-less campaign")
        await asyncio.sleep(3 * POLL_INTERVAL_S)

    assert await campaign_server.dispatch_count(nobody) == 0
    assert await campaign_server.failure_reason(nobody)
    assert metric(registry, "scheduler_errors_total", kind="audience_required") == 1
    assert metric(registry, "scheduler_campaigns_dispatched_total") == 0


async def test_ready_follows_campaign_api_and_health_does_not(
    campaign_server: CampaignServer, closed_port_url: str
) -> None:
    up_port, down_port = free_port(), free_port()
    async with (
        running_scheduler(campaign_server.base_url, campaign_server.api_key, up_port) as registry,
        running_scheduler(closed_port_url, None, down_port),
        httpx.AsyncClient(timeout=5) as http,
    ):
        await eventually(lambda: _ticked(registry), what="a first tick")
        ready_up = await http.get(f"http://127.0.0.1:{up_port}/ready")
        ready_down = await http.get(f"http://127.0.0.1:{down_port}/ready")
        health_down = await http.get(f"http://127.0.0.1:{down_port}/health")

    assert ready_up.status_code == 200
    assert ready_up.json()["checks"] == {"campaign-api": "ok"}
    assert ready_down.status_code == 503
    assert ready_down.json()["checks"]["campaign-api"].startswith("down: ConnectError")
    assert health_down.status_code == 200


async def _is(server: CampaignServer, campaign_id: int, status: str) -> bool:
    return await server.status(campaign_id) == status


async def _all(server: CampaignServer, ids: list[int], status: str) -> bool:
    return await statuses(server, ids) == [status] * len(ids)


async def _ticked(registry: CollectorRegistry) -> bool:
    return metric(registry, "scheduler_last_tick_timestamp_seconds") > 0

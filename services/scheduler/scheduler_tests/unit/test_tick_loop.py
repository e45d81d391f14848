"""The tick loop: interval with jitter, survival of a failing tick, graceful stop."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from scheduler.domain import TickReport
from scheduler.runner import TickLoop
from scheduler.usecases.tick import RunTick

from scheduler_tests.fakes import FakeCampaignApi, ManualClock, RecordingTickRecorder


async def wait_for(condition: Callable[[], object], timeout_s: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.005)


class RecordingTick:
    """A tick that fails on request and counts its calls."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls = 0
        self.fail_first = fail_first

    async def __call__(self) -> TickReport:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError("bug in a tick")
        return TickReport(finished_at=datetime.now(UTC), listing_answered=True)


def test_delays_stay_within_the_jitter_band_and_differ_between_ticks() -> None:
    loop = TickLoop(tick=RecordingTick(), interval_s=1.0, jitter=0.2, rng=random.Random(7))

    delays = [loop.next_delay_s() for _ in range(200)]

    assert all(0.8 <= d <= 1.2 for d in delays)
    assert len(set(delays)) > 100


async def test_a_failing_tick_does_not_end_polling() -> None:
    tick = RecordingTick(fail_first=2)
    stop = asyncio.Event()
    task = asyncio.create_task(TickLoop(tick=tick, interval_s=0.01, jitter=0).run(stop))

    await wait_for(lambda: tick.calls >= 4)
    stop.set()
    await asyncio.wait_for(task, 1)


async def test_stop_lets_the_tick_in_hand_finish_its_sends_then_returns() -> None:
    clock = ManualClock()
    api = FakeCampaignApi(clock, send_gate=asyncio.Event())
    api.add(1, scheduled_in_s=-1)
    recorder = RecordingTickRecorder()
    tick = RunTick(api=api, clock=clock, recorder=recorder)
    stop = asyncio.Event()
    task = asyncio.create_task(TickLoop(tick=tick, interval_s=0.01).run(stop))

    await wait_for(lambda: api.sends)
    stop.set()  # SIGTERM arrives while the send is in flight
    await asyncio.sleep(0.05)
    assert not task.done()

    assert api.send_gate is not None
    api.send_gate.set()
    await asyncio.wait_for(task, 1)
    assert api.campaigns[1].status == "sending"
    assert [r.dispatched_ids for r in recorder.reports] == [(1,)]


async def test_stop_during_the_wait_returns_at_once() -> None:
    tick = RecordingTick()
    stop = asyncio.Event()
    task = asyncio.create_task(TickLoop(tick=tick, interval_s=60).run(stop))

    await wait_for(lambda: tick.calls == 1)
    stop.set()
    await asyncio.wait_for(task, 0.5)
    assert tick.calls == 1


@pytest.mark.parametrize("jitter", [0.0, 0.5])
def test_zero_jitter_is_the_plain_interval_and_jitter_never_goes_negative(jitter: float) -> None:
    loop = TickLoop(tick=RecordingTick(), interval_s=0.5, jitter=jitter, rng=random.Random(1))

    delays = [loop.next_delay_s() for _ in range(50)]

    assert all(d > 0 for d in delays)
    if jitter == 0:
        assert set(delays) == {0.5}

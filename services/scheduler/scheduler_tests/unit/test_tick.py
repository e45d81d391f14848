"""The tick's decisions, on an injected clock and an in-memory campaign-api."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from scheduler.domain import DueCampaign, ErrorKind, Failure
from scheduler.errors import CampaignApiUnavailable, UnexpectedResponse
from scheduler.metrics import PrometheusTickRecorder
from scheduler.usecases.tick import RunTick

from scheduler_tests.fakes import FakeCampaignApi, ManualClock, RecordingTickRecorder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> FakeCampaignApi:
    return FakeCampaignApi(clock)


@pytest.fixture
def recorder() -> RecordingTickRecorder:
    return RecordingTickRecorder()


def make_tick(api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder, **kwargs: int) -> RunTick:
    return RunTick(api=api, clock=clock, recorder=recorder, **kwargs)


async def test_due_campaigns_are_dispatched_with_their_schedule_key(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    first = api.add(1, scheduled_in_s=-30)
    api.add(2, scheduled_in_s=-1)

    report = await make_tick(api, clock, recorder)()

    assert sorted(report.dispatched_ids) == [1, 2]
    assert {c.status for c in api.campaigns.values()} == {"sending"}
    assert (1, f"scheduled-1-{int(first.scheduled_at.timestamp())}") in api.sends
    assert report.listing_answered
    assert report.failures == ()
    assert recorder.reports == [report]


async def test_a_future_campaign_is_untouched_until_it_falls_due(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(7, scheduled_in_s=2.5)
    tick = make_tick(api, clock, recorder)

    assert (await tick()).dispatched == ()
    clock.advance(2)
    assert (await tick()).dispatched == ()
    assert api.sends == []
    assert api.campaigns[7].status == "scheduled"

    clock.advance(1)
    assert (await tick()).dispatched_ids == (7,)


async def test_a_campaign_listed_early_by_a_skewed_api_clock_is_not_sent_early(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.clock_ahead_s = 5
    api.add(3, scheduled_in_s=2)
    tick = make_tick(api, clock, recorder)

    report = await tick()
    assert report.not_yet_due == (3,)
    assert api.sends == []

    clock.advance(2)
    assert (await tick()).dispatched_ids == (3,)


async def test_conflict_counts_as_already_dispatched_not_as_an_error(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(4, scheduled_in_s=-1)
    # another replica sent it between our listing and our send
    original_list_due = api.list_due

    async def list_then_other_replica_sends(limit: int) -> list[DueCampaign]:
        listed = list(await original_list_due(limit))
        api.campaigns[4].status = "sending"
        return listed

    api.list_due = list_then_other_replica_sends  # type: ignore[method-assign]

    report = await make_tick(api, clock, recorder)()

    assert report.already_dispatched == (4,)
    assert report.dispatched == ()
    assert report.failures == ()


async def test_a_due_campaign_without_audience_is_counted_and_not_retried(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(5, scheduled_in_s=-1, has_audience=False)
    tick = make_tick(api, clock, recorder)

    report = await tick()
    assert report.audience_required == (5,)
    assert api.campaigns[5].status == "failed"

    clock.advance(1)
    await tick()
    assert [campaign_id for campaign_id, _ in api.sends] == [5]


async def test_a_campaign_deleted_after_listing_is_reported_gone(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(6, scheduled_in_s=-1)
    api.deleted_after_listing.add(6)

    report = await make_tick(api, clock, recorder)()

    assert report.gone == (6,)
    assert report.failures == ()


async def test_a_transient_send_failure_is_retried_on_the_next_tick_with_the_same_key(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(8, scheduled_in_s=-1)
    api.add(9, scheduled_in_s=-1)
    api.failing_sends[8] = CampaignApiUnavailable("503")
    tick = make_tick(api, clock, recorder)

    first = await tick()
    assert first.dispatched_ids == (9,)
    assert first.failures == (Failure(8, ErrorKind.UNAVAILABLE),)
    assert api.campaigns[8].status == "scheduled"

    del api.failing_sends[8]
    clock.advance(1)
    second = await tick()
    assert second.dispatched_ids == (8,)
    keys_for_8 = [key for campaign_id, key in api.sends if campaign_id == 8]
    assert len(keys_for_8) == 2
    assert len(set(keys_for_8)) == 1


async def test_an_unreachable_api_is_an_error_and_the_campaign_goes_out_once_it_answers(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(10, scheduled_in_s=-1)
    api.listing_failure = CampaignApiUnavailable("connection refused")
    tick = make_tick(api, clock, recorder)

    down = await tick()
    assert not down.listing_answered
    assert down.failures == (Failure(None, ErrorKind.UNAVAILABLE),)

    api.listing_failure = None
    clock.advance(1)
    assert (await tick()).dispatched_ids == (10,)


async def test_lag_is_the_time_from_scheduled_at_to_dispatch(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(11, scheduled_in_s=-90)
    api.add(12, scheduled_in_s=-0.5)

    report = await make_tick(api, clock, recorder)()

    lags = {d.campaign_id: d.lag_s for d in report.dispatched}
    assert lags == {11: pytest.approx(90), 12: pytest.approx(0.5)}


async def test_a_backlog_larger_than_one_batch_is_cleared_in_one_tick(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    for campaign_id in range(1, 26):
        api.add(campaign_id, scheduled_in_s=-3600 + campaign_id)

    report = await make_tick(api, clock, recorder, batch_limit=10, max_concurrent_dispatches=3)()

    assert sorted(report.dispatched_ids) == list(range(1, 26))
    assert api.listings == 3  # 10 + 10 + 5: the short batch ends the tick


async def test_a_stuck_full_batch_does_not_spin_the_tick(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    for campaign_id in range(1, 6):
        api.add(campaign_id, scheduled_in_s=-10)
        api.failing_sends[campaign_id] = UnexpectedResponse("400")

    report = await make_tick(api, clock, recorder, batch_limit=5)()

    assert api.listings == 1
    assert {f.kind for f in report.failures} == {ErrorKind.UNEXPECTED_RESPONSE}
    assert sorted(report.failed_ids) == [1, 2, 3, 4, 5]


async def test_a_bug_in_one_send_does_not_cancel_the_others(
    api: FakeCampaignApi, clock: ManualClock, recorder: RecordingTickRecorder
) -> None:
    api.add(13, scheduled_in_s=-1)
    api.add(14, scheduled_in_s=-1)
    api.failing_sends[13] = RuntimeError("bug")  # type: ignore[assignment]

    report = await make_tick(api, clock, recorder)()

    assert report.dispatched_ids == (14,)
    assert report.failures == (Failure(13, ErrorKind.INTERNAL),)


async def test_prometheus_metrics_follow_the_ticks(api: FakeCampaignApi, clock: ManualClock) -> None:
    registry = CollectorRegistry()
    tick = RunTick(api=api, clock=clock, recorder=PrometheusTickRecorder.register(registry))
    api.add(20, scheduled_in_s=-2)
    api.add(21, scheduled_in_s=-1, has_audience=False)
    api.add(22, scheduled_in_s=-1)
    api.failing_sends[22] = CampaignApiUnavailable("timeout")

    await tick()

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("scheduler_campaigns_dispatched_total") == 1
    assert sample("scheduler_dispatch_lag_seconds_count") == 1
    assert sample("scheduler_dispatch_lag_seconds_sum") == pytest.approx(2)
    assert sample("scheduler_dispatch_lag_seconds_bucket", le="2.0") == 1
    assert sample("scheduler_errors_total", kind="audience_required") == 1
    assert sample("scheduler_errors_total", kind="unavailable") == 1
    assert sample("scheduler_errors_total", kind="unexpected_response") == 0
    assert sample("scheduler_last_tick_timestamp_seconds") == clock().timestamp()

    stale = clock().timestamp()
    api.listing_failure = CampaignApiUnavailable("down")
    clock.advance(5)
    await tick()
    # a tick that could not list anything is not a completed tick: the not-ticking alert must see it
    assert sample("scheduler_last_tick_timestamp_seconds") == stale
    assert sample("scheduler_errors_total", kind="unavailable") == 2

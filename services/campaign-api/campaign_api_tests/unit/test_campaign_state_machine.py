"""The Campaign aggregate's rules, with no database: every transition the use cases rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from campaign_api.domain import (
    KEEP,
    Audience,
    Campaign,
    CampaignChanges,
    CampaignStatus,
    Segment,
    initial_status,
)
from campaign_api.errors import (
    AudienceEmpty,
    AudienceRequired,
    CampaignNotCancellable,
    CampaignNotEditable,
    CampaignNotPausable,
    CampaignNotResumable,
    CampaignNotRetryable,
    CampaignNotSendable,
    ScheduledAtInPast,
)
from dispatch.lifecycle import Channel

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def campaign(status: CampaignStatus = CampaignStatus.DRAFT, **fields: object) -> Campaign:
    values: dict[str, object] = {
        "id": 7,
        "name": "Sale",
        "channel": Channel.SMS,
        "status": status,
        "base_template": "Hi {first_name}",
        "scheduled_at": NOW + timedelta(hours=1) if status == CampaignStatus.SCHEDULED else None,
        "created_at": NOW - timedelta(days=1),
    }
    values.update(fields)
    return Campaign(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED])
def test_a_draft_or_scheduled_campaign_with_messages_moves_to_sending(status: CampaignStatus) -> None:
    subject = campaign(status)
    subject.send(queued=3)
    assert subject.status == CampaignStatus.SENDING


@pytest.mark.parametrize("status", [CampaignStatus.SENDING, CampaignStatus.SENT, CampaignStatus.FAILED])
def test_a_campaign_that_left_draft_cannot_be_sent_again(status: CampaignStatus) -> None:
    subject = campaign(status)
    with pytest.raises(CampaignNotSendable):
        subject.audience_to_send([1])
    with pytest.raises(CampaignNotSendable):
        subject.send(queued=1)
    assert subject.status == status


def test_a_send_that_queued_nothing_is_refused_and_changes_nothing() -> None:
    subject = campaign()
    with pytest.raises(AudienceEmpty):
        subject.send(queued=0)
    assert subject.status == CampaignStatus.DRAFT


def test_explicit_ids_win_over_the_stored_audience() -> None:
    subject = campaign(audience=Audience(segment=Segment(all_customers=True)))
    assert subject.audience_to_send([4, 5]) == [4, 5]


def test_without_ids_the_stored_segment_or_ids_are_the_audience() -> None:
    segment = Segment(location="Nairobi")
    assert campaign(audience=Audience(segment=segment)).audience_to_send(None) == segment
    assert campaign(audience=Audience(customer_ids=(1, 2))).audience_to_send(None) == (1, 2)


def test_without_ids_or_a_stored_audience_a_send_needs_an_audience() -> None:
    with pytest.raises(AudienceRequired):
        campaign().audience_to_send(None)


def test_a_due_campaign_that_cannot_be_sent_fails_with_its_reason() -> None:
    subject = campaign(CampaignStatus.SCHEDULED, scheduled_at=NOW - timedelta(seconds=1))
    assert subject.fail_due("nobody to send to", NOW)
    assert (subject.status, subject.status_reason) == (CampaignStatus.FAILED, "nobody to send to")


def test_a_campaign_not_yet_due_is_not_failed() -> None:
    subject = campaign(CampaignStatus.SCHEDULED)
    assert not subject.fail_due("nobody to send to", NOW)
    assert subject.status == CampaignStatus.SCHEDULED and subject.status_reason is None


def test_cancelling_a_scheduled_campaign_makes_it_a_draft_without_a_time() -> None:
    subject = campaign(CampaignStatus.SCHEDULED)
    subject.cancel()
    assert (subject.status, subject.scheduled_at) == (CampaignStatus.DRAFT, None)


@pytest.mark.parametrize(
    "status", [CampaignStatus.DRAFT, CampaignStatus.SENT, CampaignStatus.FAILED, CampaignStatus.CANCELLED]
)
def test_only_a_scheduled_sending_or_paused_campaign_can_be_cancelled(status: CampaignStatus) -> None:
    with pytest.raises(CampaignNotCancellable):
        campaign(status).cancel()


@pytest.mark.parametrize("status", [CampaignStatus.SENDING, CampaignStatus.PAUSED])
def test_cancelling_a_campaign_in_flight_ends_it_cancelled(status: CampaignStatus) -> None:
    subject = campaign(status)
    subject.cancel()
    assert subject.status == CampaignStatus.CANCELLED


def test_a_sending_campaign_pauses() -> None:
    subject = campaign(CampaignStatus.SENDING)
    subject.pause()
    assert subject.status == CampaignStatus.PAUSED


def test_a_paused_campaign_resumes_sending() -> None:
    subject = campaign(CampaignStatus.PAUSED)
    subject.resume()
    assert subject.status == CampaignStatus.SENDING


@pytest.mark.parametrize("status", sorted(set(CampaignStatus) - {CampaignStatus.SENDING}))
def test_only_a_sending_campaign_can_be_paused(status: CampaignStatus) -> None:
    with pytest.raises(CampaignNotPausable):
        campaign(status).pause()


@pytest.mark.parametrize("status", sorted(set(CampaignStatus) - {CampaignStatus.PAUSED}))
def test_only_a_paused_campaign_can_be_resumed(status: CampaignStatus) -> None:
    with pytest.raises(CampaignNotResumable):
        campaign(status).resume()


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED])
def test_a_campaign_that_never_sent_or_was_cancelled_has_no_failures_to_retry(status: CampaignStatus) -> None:
    with pytest.raises(CampaignNotRetryable):
        campaign(status).check_retryable()


def test_an_edit_changes_only_the_fields_given() -> None:
    subject = campaign(CampaignStatus.SCHEDULED)
    scheduled_at = subject.scheduled_at
    subject.apply(CampaignChanges(name="Winter"), NOW)
    assert (subject.name, subject.base_template, subject.scheduled_at) == ("Winter", "Hi {first_name}", scheduled_at)
    assert subject.status == CampaignStatus.SCHEDULED


def test_a_future_time_schedules_a_draft_and_none_makes_it_a_draft_again() -> None:
    subject = campaign()
    later = NOW + timedelta(days=2)
    subject.apply(CampaignChanges(scheduled_at=later), NOW)
    assert (subject.status, subject.scheduled_at) == (CampaignStatus.SCHEDULED, later)
    subject.apply(CampaignChanges(scheduled_at=None), NOW)
    assert (subject.status, subject.scheduled_at) == (CampaignStatus.DRAFT, None)


def test_an_edit_to_a_past_time_is_refused_and_changes_nothing() -> None:
    subject = campaign()
    with pytest.raises(ScheduledAtInPast):
        subject.apply(CampaignChanges(name="Late", scheduled_at=NOW - timedelta(minutes=1)), NOW)
    assert (subject.name, subject.status) == ("Sale", CampaignStatus.DRAFT)


@pytest.mark.parametrize("status", [CampaignStatus.SENDING, CampaignStatus.SENT, CampaignStatus.FAILED])
def test_a_campaign_that_left_draft_cannot_be_edited(status: CampaignStatus) -> None:
    with pytest.raises(CampaignNotEditable):
        campaign(status).apply(CampaignChanges(name="x", audience=KEEP), NOW)


def test_a_new_campaign_is_a_draft_or_scheduled_by_its_time() -> None:
    assert initial_status(None, NOW) == CampaignStatus.DRAFT
    assert initial_status(NOW + timedelta(seconds=1), NOW) == CampaignStatus.SCHEDULED
    with pytest.raises(ScheduledAtInPast):
        initial_status(NOW, NOW)

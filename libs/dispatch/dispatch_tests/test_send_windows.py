"""Send windows judged at pinned instants: the window's own zone, a recipient's zone, midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dispatch.send_windows import PRESETS, SendWindow, common_opening, share_a_moment, zone_named

NAIROBI = ZoneInfo("Africa/Nairobi")
SAFARICOM = PRESETS["ke-safaricom"]


def eat(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=NAIROBI)


def test_a_message_at_one_second_before_six_pm_eat_may_go() -> None:
    assert SAFARICOM.is_open(eat(17, 59, 59))
    assert SAFARICOM.next_opening(eat(17, 59, 59)) == eat(17, 59, 59)


def test_a_message_at_six_pm_eat_waits_until_eight_the_next_morning() -> None:
    assert not SAFARICOM.is_open(eat(18))
    assert SAFARICOM.next_opening(eat(18)) == eat(8, day=2)
    assert SAFARICOM.next_opening(eat(18)).tzinfo == UTC


def test_a_message_before_eight_waits_until_eight_the_same_morning() -> None:
    assert SAFARICOM.next_opening(eat(7, 59, 59)) == eat(8)
    assert SAFARICOM.is_open(eat(8))


def test_a_recipient_in_another_zone_follows_their_own_clock() -> None:
    lagos = ZoneInfo("Africa/Lagos")  # two hours behind Nairobi
    # 18:30 in Nairobi is 16:30 in Lagos: open for a Lagos customer, closed for a Nairobi one
    assert SAFARICOM.is_open(eat(18, 30), lagos)
    assert not SAFARICOM.is_open(eat(18, 30))
    # 20:30 in Nairobi is 18:30 in Lagos: closed, and it opens at 08:00 Lagos time
    assert SAFARICOM.next_opening(eat(20, 30), lagos) == datetime(2026, 12, 2, 8, tzinfo=lagos)


def test_a_window_across_midnight_opens_at_its_start() -> None:
    night = SendWindow(time(20), time(6), NAIROBI)
    assert night.is_open(eat(23)) and night.is_open(eat(5, 59))
    assert not night.is_open(eat(6))
    assert night.next_opening(eat(6)) == eat(20)


def test_an_opening_on_a_dst_night_is_a_real_instant() -> None:
    new_york = ZoneInfo("America/New_York")
    window = SendWindow(time(2, 30), time(9), new_york)
    # 8 March 2026 02:00 EST → 03:00 EDT: 02:30 does not exist that night; the opening is right after the jump
    opening = window.next_opening(datetime(2026, 3, 8, 1, 0, tzinfo=new_york))
    assert opening == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert window.is_open(opening)


def test_an_empty_window_and_an_unknown_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        SendWindow(time(8), time(8), NAIROBI)
    for name in ("Mars/Olympus", "", "../etc/passwd", " Africa/Nairobi"):
        with pytest.raises(ValueError, match="IANA"):
            zone_named(name)
    assert zone_named("Africa/Nairobi") == NAIROBI


def test_an_opening_on_the_night_clocks_go_back_is_never_in_the_past() -> None:
    new_york = ZoneInfo("America/New_York")
    window = SendWindow(time(1, 45), time(9), new_york)
    # 1 November 2026: 02:00 EDT → 01:00 EST; at 01:30 EST (the second pass) 01:45 EDT is behind, 01:45 EST ahead
    second_pass = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert not window.is_open(second_pass)
    assert window.next_opening(second_pass) == datetime(2026, 11, 1, 6, 45, tzinfo=UTC)


# the sender windows of the tests below, narrower than Safaricom's 08:00-18:00
MORNING = SendWindow(time(9), time(11), NAIROBI)
EVENING = SendWindow(time(19), time(21), NAIROBI)


def test_two_windows_open_together_only_inside_both() -> None:
    until = eat(0, day=3)
    # at 08:30 Safaricom's is open, the morning one not: both open at 09:00
    assert common_opening((SAFARICOM, MORNING), eat(8, 30), until) == eat(9)
    assert common_opening((SAFARICOM, MORNING), eat(10, 59, 59), until) == eat(10, 59, 59)
    # at 11:00 the morning one closes: the next common moment is 09:00 tomorrow, not Safaricom's 08:00
    assert common_opening((SAFARICOM, MORNING), eat(11), until) == eat(9, day=2)
    # the order of the windows does not matter
    assert common_opening((MORNING, SAFARICOM), eat(11), until) == eat(9, day=2)


def test_windows_read_in_the_recipients_zone_together() -> None:
    lagos = ZoneInfo("Africa/Lagos")
    # 11:30 in Nairobi is 09:30 in Lagos: both windows open on the Lagos customer's clock
    assert common_opening((SAFARICOM, MORNING), eat(11, 30), eat(0, day=3), lagos) == eat(11, 30)


def test_windows_that_never_meet_have_no_common_opening_before_the_limit() -> None:
    assert common_opening((SAFARICOM, EVENING), eat(8), eat(8, day=31)) is None
    # a limit before the opening (the message's validity) finds nothing either
    assert common_opening((SAFARICOM, MORNING), eat(11), eat(8, day=2)) is None


def test_windows_share_a_moment_only_when_some_time_of_day_is_in_both() -> None:
    since = eat(12)
    assert share_a_moment(SAFARICOM, MORNING, since)
    assert not share_a_moment(SAFARICOM, EVENING, since)
    assert share_a_moment(SendWindow(time(17), time(9), NAIROBI), SAFARICOM, since)  # 17:00-18:00 and 08:00-09:00
    assert not share_a_moment(SendWindow(time(18), time(8), NAIROBI), SAFARICOM, since)  # the end is excluded
    # the same hours in zones eight hours apart never meet for a recipient without a zone of their own
    assert not share_a_moment(SendWindow(time(8), time(10), ZoneInfo("America/Los_Angeles")), MORNING, since)
    assert share_a_moment(SendWindow(time(8), time(10), ZoneInfo("Africa/Lagos")), MORNING, since)


def test_the_common_opening_search_stops_at_its_limit() -> None:
    start = eat(12)
    assert common_opening((SAFARICOM, EVENING), start, start + timedelta(days=366)) is None

"""Send windows judged at pinned instants: the window's own zone, a recipient's zone, midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from dispatch.send_windows import PRESETS, SendWindow, zone_named

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

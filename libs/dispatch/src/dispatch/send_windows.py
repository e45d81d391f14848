"""Send windows: the local hours in which promotional messages may go out, and when a closed window opens next.

Pure: every function takes the instant it judges (the caller's clock), so tests pin time instead of waiting for it.
A window is [start, end) in local wall-clock time; a start after the end spans midnight (20:00-06:00). Local time
is read in the recipient's own zone when known, the window's zone otherwise, so 08:00-18:00 means 08:00-18:00 for
each recipient wherever they live.

An account's window and, narrower, a sender's combine by intersection: a promotional message goes only at a moment
when every window that applies to it is open (`common_opening`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Local hours [start, end) in `zone`; start == end is no window and is refused."""

    start: time
    end: time
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a send window's start and end must differ")

    def is_open(self, instant: datetime, zone: ZoneInfo | None = None) -> bool:
        """Whether a message may go at `instant` (aware), read in `zone` (the recipient's) or the window's own."""
        local = instant.astimezone(zone or self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_opening(self, instant: datetime, zone: ZoneInfo | None = None) -> datetime:
        """The earliest moment at or after `instant` when the window is open, in UTC."""
        if self.is_open(instant, zone):
            return instant.astimezone(UTC)
        local = instant.astimezone(zone or self.zone)
        # closed: the next opening is today's start when it lies ahead, else tomorrow's (a window spanning
        # midnight is closed only between its end and its start, so its start is always ahead then)
        day = local.date() if local.time().replace(tzinfo=None) < self.start else local.date() + timedelta(days=1)
        opening = datetime.combine(day, self.start, tzinfo=zone or self.zone)
        if opening.astimezone(UTC) < instant.astimezone(UTC):
            # on the night clocks go back a wall-clock time comes twice; once its first pass is behind, the next
            # opening is its second (compared in UTC: aware datetimes of one zone compare by wall clock)
            opening = opening.replace(fold=1)
        # a start inside a DST gap (02:30 on the night clocks jump) names no real instant: the round trip through
        # UTC settles it just after the jump
        return opening.astimezone(UTC)

    def seconds_of_day(self) -> list[tuple[int, int]]:
        """The window as [from, to) seconds since local midnight: one span, or two when it spans midnight."""
        start, end = _seconds(self.start), _seconds(self.end)
        return [(start, end)] if start < end else [(start, DAY_S), (0, end)]


DAY_S: Final = 24 * 3600
# how far ahead the configuration check looks for a moment two windows in different zones are open together
OVERLAP_HORIZON: Final = timedelta(days=366)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def common_opening(
    windows: Sequence[SendWindow], instant: datetime, until: datetime, zone: ZoneInfo | None = None
) -> datetime | None:
    """The earliest moment in [instant, until) when every window is open (each read in `zone`, the recipient's,
    else in its own), in UTC; None when no such moment comes before `until`."""
    moment = instant.astimezone(UTC)
    while moment < until:
        closed = next((w for w in windows if not w.is_open(moment, zone)), None)
        if closed is None:
            return moment
        # that window is closed until its next opening, so no common moment lies in between; the second's step
        # only guards against a zone database that names an opening at or before `moment` (it never should)
        moment = max(closed.next_opening(moment, zone), moment + timedelta(seconds=1))
    return None


def share_a_moment(first: SendWindow, second: SendWindow, since: datetime) -> bool:
    """Whether the two windows are ever open together: on one local clock (a recipient with a time zone) they must
    share some time of day, and read in their own zones (a recipient without one) some moment of the next year."""
    spans = [(max(a, c), min(b, d)) for a, b in first.seconds_of_day() for c, d in second.seconds_of_day()]
    if not any(lo < hi for lo, hi in spans):
        return False
    if first.zone.key == second.zone.key:
        return True
    return common_opening((first, second), since, since + OVERLAP_HORIZON) is not None


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone of that name; ValueError when there is none."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Africa/Nairobi)") from None


# named windows an account can choose in one setting
PRESETS: Final = MappingProxyType(
    {
        # Safaricom delivers promotional sender IDs only 08:00-18:00 East Africa Time and queues the rest
        "ke-safaricom": SendWindow(time(8), time(18), ZoneInfo("Africa/Nairobi")),
        # US quiet hours (TCPA): 08:00-21:00 recipient local time; the zone applies to customers without one
        "us-tcpa": SendWindow(time(8), time(21), ZoneInfo("America/New_York")),
    }
)

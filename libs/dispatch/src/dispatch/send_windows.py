"""Send windows: the local hours in which promotional messages may go out, and when a closed window opens next.

Pure: every function takes the instant it judges (the caller's clock), so tests pin time instead of waiting for it.
A window is [start, end) in local wall-clock time; a start after the end spans midnight (20:00-06:00). Local time
is read in the recipient's own zone when known, the window's zone otherwise, so 08:00-18:00 means 08:00-18:00 for
each recipient wherever they live.
"""

from __future__ import annotations

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
        # a start inside a DST gap (02:30 on the night clocks jump) names no real instant: the round trip through
        # UTC settles it just after the jump
        return opening.astimezone(UTC)


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

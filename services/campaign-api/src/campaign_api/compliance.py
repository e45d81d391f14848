"""An account's compliance rules as the use cases see them: its send window, the opt-out instruction promotional
SMS must carry, and the keywords by which a recipient opts out or back in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from dispatch.lifecycle import Category, Channel
from dispatch.send_windows import SendWindow, share_a_moment

from campaign_api.errors import InvalidInput

DEFAULT_STOP_KEYWORDS: Final = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
DEFAULT_START_KEYWORDS: Final = ("START", "UNSTOP")


class SuppressionSource(StrEnum):
    """Mirrors suppressions_source_check: how an opt-out arrived."""

    API = "api"
    KEYWORD = "keyword"
    PROVIDER = "provider"


def normalise_keyword(text: str) -> str:
    """A keyword as compared: case, spacing and punctuation ignored ("Stop!", " s t o p " and "STOP" agree)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum()).upper()


def _collapsed(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """An account's settings; the defaults are a new account's: no window, no instruction, the default keywords."""

    window: SendWindow | None = None
    window_preset: str | None = None
    opt_out_required: bool = True
    opt_out_text: str | None = None
    stop_keywords: tuple[str, ...] = DEFAULT_STOP_KEYWORDS
    start_keywords: tuple[str, ...] = DEFAULT_START_KEYWORDS
    updated_at: datetime | None = None

    def missing_opt_out(self, template: str, channel: Channel, category: Category) -> str | None:
        """The instruction a promotional SMS template lacks (case and spacing aside), or None when it may go."""
        if channel != Channel.SMS or category != Category.PROMOTIONAL:
            return None
        if not self.opt_out_required or self.opt_out_text is None:
            return None
        return None if _collapsed(self.opt_out_text) in _collapsed(template) else self.opt_out_text

    def keyword_action(self, body: str) -> KeywordAction | None:
        """What an inbound message's text asks for: an opt-out, an opt-in, or nothing."""
        word = normalise_keyword(body)
        if not word:
            return None
        if word in {normalise_keyword(k) for k in self.stop_keywords}:
            return KeywordAction.STOP
        if word in {normalise_keyword(k) for k in self.start_keywords}:
            return KeywordAction.START
        return None


class KeywordAction(StrEnum):
    """What an inbound keyword did."""

    STOP = "stop"
    START = "start"


@dataclass(frozen=True, slots=True)
class Suppression:
    """An opted-out phone (E.164) on one channel, or every channel when channel is None."""

    id: int
    phone: str
    channel: Channel | None
    reason: str
    source: SuppressionSource
    created_at: datetime


def describe_window(window: SendWindow) -> str:
    """A window as people read it: 08:00-18:00 Africa/Nairobi."""
    return f"{window.start:%H:%M}-{window.end:%H:%M} {window.zone.key}"


class SendWindowsDisjoint(InvalidInput):
    """A sender's window and its account's would never be open together: its promotional messages could never go."""

    code = "SEND_WINDOW_DISJOINT"

    def __init__(self, field: str, sender: str, sender_window: SendWindow, account_window: SendWindow) -> None:
        super().__init__(
            f"{field}: the send window of sender {sender} ({describe_window(sender_window)}) and the account's"
            f" ({describe_window(account_window)}) are never open together, so its promotional messages could"
            " never go; choose hours inside the account's window"
        )


def check_windows_meet(
    field: str, sender: str, sender_window: SendWindow | None, account_window: SendWindow | None, now: datetime
) -> None:
    """A sender's window must share some moment with its account's (either may be absent: nothing to check)."""
    if sender_window is None or account_window is None:
        return
    if not share_a_moment(sender_window, account_window, now):
        raise SendWindowsDisjoint(field, sender, sender_window, account_window)

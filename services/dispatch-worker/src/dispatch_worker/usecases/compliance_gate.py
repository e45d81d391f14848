"""The compliance gate: right before an attempt, a claimed message whose recipient opted out ends suppressed, one
past its campaign's validity ends expired, and a promotional one outside its send windows goes back to the outbox
until they open. None of these spends a retry or reaches the DLQ; the worker acks the job.

The send already left out the customers suppressed at that moment; this runs again because an opt-out, or the
clock, can change between the send and the attempt (a STOP mid-campaign stops the messages not yet sent).

A promotional message obeys its account's window and, narrower, its sender's: it goes only at a moment when both
are open (the intersection), each read in the customer's zone when the customer has one, else in its own zone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from dispatch import outbound_messages
from dispatch.lifecycle import Category, Channel, ClaimChecks, ClaimedMessage, MessageStatus
from dispatch.send_windows import SendWindow, common_opening, zone_named
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from dispatch_worker.domain import GateVerdict
from dispatch_worker.repositories import compliance_facts

log = logging.getLogger(__name__)

SUPPRESSED_REASON = "the recipient opted out (suppression list)"


def utc_now() -> datetime:
    """The wall clock, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The claimed messages that may be attempted now, the campaigns some of whose messages just ended, and what
    the gate decided, for the worker's metrics."""

    allowed: list[ClaimedMessage]
    ended_campaign_ids: set[int] = field(default_factory=set)
    suppressed: int = 0
    expired: int = 0
    deferred: int = 0
    # messages per (verdict, channel, category)
    verdicts: Counter[tuple[GateVerdict, Channel, Category]] = field(default_factory=Counter)
    # per deferred message: its channel and the seconds until its windows open
    deferrals: list[tuple[Channel, float]] = field(default_factory=list)


def _window(start: time | None, end: time | None, zone: str | None, campaign_id: int) -> SendWindow | None:
    if start is None or end is None or zone is None:
        return None
    try:
        return SendWindow(start, end, zone_named(zone))
    except ValueError:
        # the API validates both; a row written around it must not stall every batch of the account
        log.warning("unusable send window ignored", extra={"campaign_id": campaign_id})
        return None


def _windows(facts: ClaimChecks, campaign_id: int) -> tuple[SendWindow, ...]:
    """The windows a message obeys: none for a transactional one; else the account's and its sender's, if set."""
    if facts.category is not Category.PROMOTIONAL:
        return ()
    found = (
        _window(facts.window_start, facts.window_end, facts.window_time_zone, campaign_id),
        _window(facts.sender_window_start, facts.sender_window_end, facts.sender_window_time_zone, campaign_id),
    )
    return tuple(w for w in found if w is not None)


def _customer_zone(facts: ClaimChecks) -> ZoneInfo | None:
    """The customer's own zone; one the API would not accept (rows written around it) falls back to the window's."""
    if facts.customer_time_zone is None:
        return None
    try:
        return zone_named(facts.customer_time_zone)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ComplianceGate:
    """Judges a claimed batch by the checks its claim loaded (no query of its own unless a message came without
    them); `clock` is injected so tests pin the hour."""

    clock: Callable[[], datetime] = utc_now

    async def __call__(self, conn: AsyncConnection[TupleRow], claimed: Sequence[ClaimedMessage]) -> GateDecision:
        """Inside the claim's transaction: end, defer or allow each claimed message."""
        if not claimed:
            return GateDecision([])
        facts = {m.id: m.checks for m in claimed if m.checks is not None}
        if unchecked := [m.id for m in claimed if m.checks is None]:
            facts |= await compliance_facts.load(conn, unchecked)
        now = self.clock()
        allowed: list[ClaimedMessage] = []
        suppressed: list[tuple[int, str]] = []
        expired: list[tuple[int, str]] = []
        deferred: list[tuple[int, datetime, str]] = []
        ended: set[int] = set()
        verdicts: Counter[tuple[GateVerdict, Channel, Category]] = Counter()
        deferrals: list[tuple[Channel, float]] = []
        # a batch is mostly one campaign: its messages share windows, zone and validity, so one search serves all
        openings: dict[tuple[tuple[SendWindow, ...], ZoneInfo | None, datetime], datetime | None] = {}
        for message in claimed:
            fact = facts.get(message.id)
            if fact is None:  # its row was just claimed, so it exists; defensive only
                allowed.append(message)
                continue
            verdict = GateVerdict.ALLOWED
            windows, zone = _windows(fact, message.campaign_id), _customer_zone(fact)
            if fact.suppressed:
                verdict = GateVerdict.SUPPRESSED
                suppressed.append((message.id, SUPPRESSED_REASON))
            elif now >= fact.expires_at:
                verdict = GateVerdict.EXPIRED
                expired.append((message.id, f"not sent within the campaign's validity ({fact.validity_hours} h)"))
            elif windows and not all(w.is_open(now, zone) for w in windows):
                key = (windows, zone, fact.expires_at)
                if key not in openings:
                    # bounded by the validity: windows that are never open together before it end the message
                    openings[key] = common_opening(windows, now, fact.expires_at, zone)
                opening = openings[key]
                which = "send window" if len(windows) == 1 else "send windows (the account's and the sender's)"
                if opening is None:
                    verdict = GateVerdict.EXPIRED
                    opens = "opens" if len(windows) == 1 else "are open together"
                    expired.append((message.id, f"the campaign's validity ends before the {which} {opens}"))
                else:
                    verdict = GateVerdict.DEFERRED_WINDOW
                    when = opening.isoformat().replace("+00:00", "Z")
                    deferred.append((message.id, opening, f"outside the {which}; waits until {when}"))
                    deferrals.append((message.channel, (opening - now).total_seconds()))
            else:
                allowed.append(message)
            if verdict in (GateVerdict.SUPPRESSED, GateVerdict.EXPIRED):
                ended.add(message.campaign_id)
            verdicts[(verdict, message.channel, fact.category)] += 1
        await outbound_messages.end_unsent(conn, MessageStatus.SUPPRESSED, suppressed)
        await outbound_messages.end_unsent(conn, MessageStatus.EXPIRED, expired)
        await outbound_messages.defer(conn, deferred)
        if suppressed or expired or deferred:
            log.info(
                "compliance gate held messages back",
                extra={"suppressed": len(suppressed), "expired": len(expired), "deferred": len(deferred)},
            )
        return GateDecision(
            allowed, ended, len(suppressed), len(expired), len(deferred), verdicts=verdicts, deferrals=deferrals
        )

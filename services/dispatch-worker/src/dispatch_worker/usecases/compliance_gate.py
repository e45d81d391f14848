"""The compliance gate: right before an attempt, a claimed message whose recipient opted out ends suppressed, one
past its campaign's validity ends expired, and a promotional one outside its send window goes back to the outbox
until the window opens. None of these spends a retry or reaches the DLQ; the worker acks the job.

The send already left out the customers suppressed at that moment; this runs again because an opt-out, or the
clock, can change between the send and the attempt (a STOP mid-campaign stops the messages not yet sent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dispatch import outbound_messages
from dispatch.lifecycle import Category, ClaimChecks, ClaimedMessage, MessageStatus
from dispatch.send_windows import SendWindow, zone_named
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from dispatch_worker.repositories import compliance_facts

log = logging.getLogger(__name__)

SUPPRESSED_REASON = "the recipient opted out (suppression list)"


def utc_now() -> datetime:
    """The wall clock, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The claimed messages that may be attempted now, and the campaigns some of whose messages just ended."""

    allowed: list[ClaimedMessage]
    ended_campaign_ids: set[int] = field(default_factory=set)
    suppressed: int = 0
    expired: int = 0
    deferred: int = 0


def _window(facts: ClaimChecks, campaign_id: int) -> SendWindow | None:
    if facts.window_start is None or facts.window_end is None or facts.window_time_zone is None:
        return None
    try:
        return SendWindow(facts.window_start, facts.window_end, zone_named(facts.window_time_zone))
    except ValueError:
        # the API validates both; a row written around it must not stall every batch of the account
        log.warning("unusable send window ignored", extra={"campaign_id": campaign_id})
        return None


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
        for message in claimed:
            fact = facts.get(message.id)
            if fact is None:  # its row was just claimed, so it exists; defensive only
                allowed.append(message)
                continue
            if fact.suppressed:
                suppressed.append((message.id, SUPPRESSED_REASON))
                ended.add(message.campaign_id)
                continue
            if now >= fact.expires_at:
                expired.append((message.id, f"not sent within the campaign's validity ({fact.validity_hours} h)"))
                ended.add(message.campaign_id)
                continue
            window = _window(fact, message.campaign_id) if fact.category is Category.PROMOTIONAL else None
            zone = _customer_zone(fact)
            if window is None or window.is_open(now, zone):
                allowed.append(message)
                continue
            opening = window.next_opening(now, zone)
            if opening >= fact.expires_at:
                expired.append((message.id, "the campaign's validity ends before the send window opens"))
                ended.add(message.campaign_id)
                continue
            when = opening.isoformat().replace("+00:00", "Z")
            deferred.append((message.id, opening, f"outside the send window; waits until {when}"))
        await outbound_messages.end_unsent(conn, MessageStatus.SUPPRESSED, suppressed)
        await outbound_messages.end_unsent(conn, MessageStatus.EXPIRED, expired)
        await outbound_messages.defer(conn, deferred)
        if suppressed or expired or deferred:
            log.info(
                "compliance gate held messages back",
                extra={"suppressed": len(suppressed), "expired": len(expired), "deferred": len(deferred)},
            )
        return GateDecision(allowed, ended, len(suppressed), len(expired), len(deferred))

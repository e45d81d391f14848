"""One tick: list the due campaigns through campaign-api and trigger each one's send."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry import trace

from scheduler.domain import Dispatch, DispatchOutcome, DueCampaign, ErrorKind, Failure, TickReport
from scheduler.errors import SchedulerError
from scheduler.ports import CampaignApi, Clock, TickRecorder

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass
class _Tally:
    """The tick's running totals; one task per campaign appends to it (one event loop, no locking needed)."""

    dispatched: list[Dispatch] = field(default_factory=list)
    already_dispatched: list[int] = field(default_factory=list)
    audience_required: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    not_yet_due: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunTick:
    """Dispatch every campaign that is due now; whatever fails stays due and is tried again next tick."""

    api: CampaignApi
    clock: Clock
    recorder: TickRecorder
    batch_limit: int = 100
    max_concurrent_dispatches: int = 4

    async def __call__(self) -> TickReport:
        """Run one tick and return what it did; campaign-api failures are counted, never raised."""
        tally = _Tally()
        listing_answered = False
        with tracer.start_as_current_span("scheduler.tick"):
            seen: set[int] = set()
            while True:
                try:
                    batch = await self.api.list_due(self.batch_limit)
                except SchedulerError as exc:
                    log.warning("listing due campaigns failed", extra={"error_kind": exc.kind, "error": str(exc)})
                    tally.failures.append(Failure(None, exc.kind))
                    break
                listing_answered = True
                fresh = [campaign for campaign in batch if campaign.id not in seen]
                seen.update(campaign.id for campaign in fresh)
                await self._dispatch_batch(fresh, tally)
                # a full batch may hide more due campaigns (catch-up after downtime): ask again, but only while
                # every campaign of this batch left the due list, so a stuck campaign cannot spin the loop
                if len(batch) < self.batch_limit or len(fresh) < len(batch) or tally.failures or tally.not_yet_due:
                    break
        report = TickReport(
            finished_at=self.clock(),
            listing_answered=listing_answered,
            dispatched=tuple(tally.dispatched),
            already_dispatched=tuple(tally.already_dispatched),
            audience_required=tuple(tally.audience_required),
            gone=tuple(tally.gone),
            rejected=tuple(tally.rejected),
            not_yet_due=tuple(tally.not_yet_due),
            failures=tuple(tally.failures),
        )
        self.recorder.record(report)
        return report

    async def _dispatch_batch(self, batch: Sequence[DueCampaign], tally: _Tally) -> None:
        now = self.clock()
        # the send endpoint sends at once whatever the date, so never trigger it early: a campaign listed
        # ahead of this clock (skew between hosts) waits for a later tick
        tally.not_yet_due.extend(campaign.id for campaign in batch if campaign.scheduled_at > now)
        due = [campaign for campaign in batch if campaign.scheduled_at <= now]
        gate = asyncio.Semaphore(self.max_concurrent_dispatches)

        async def bounded(campaign: DueCampaign) -> None:
            async with gate:
                await self._dispatch_one(campaign, tally)

        async with asyncio.TaskGroup() as group:
            for campaign in due:
                group.create_task(bounded(campaign))

    async def _dispatch_one(self, campaign: DueCampaign, tally: _Tally) -> None:
        fields: dict[str, object] = {"campaign_id": campaign.id}
        with tracer.start_as_current_span("scheduler.dispatch", attributes={"campaign.id": campaign.id}):
            try:
                result = await self.api.dispatch(campaign)
            except SchedulerError as exc:
                log.warning("dispatch failed, retrying next tick", extra={**fields, "error_kind": exc.kind})
                tally.failures.append(Failure(campaign.id, exc.kind))
                return
            except Exception:
                # one campaign's bug must not cancel the sends running beside it
                log.exception("dispatch raised unexpectedly", extra=fields)
                tally.failures.append(Failure(campaign.id, ErrorKind.INTERNAL))
                return
        match result.outcome:
            case DispatchOutcome.DISPATCHED:
                lag_s = max(0.0, (self.clock() - campaign.scheduled_at).total_seconds())
                tally.dispatched.append(Dispatch(campaign.id, result.messages_queued, lag_s))
                log.info(
                    "scheduled campaign dispatched",
                    extra={**fields, "messages_queued": result.messages_queued, "lag_s": round(lag_s, 3)},
                )
            case DispatchOutcome.ALREADY_DISPATCHED:
                tally.already_dispatched.append(campaign.id)
                log.info("campaign already dispatched or cancelled", extra=fields)
            case DispatchOutcome.AUDIENCE_REQUIRED:
                tally.audience_required.append(campaign.id)
                log.warning("due campaign has no audience; campaign-api marked it failed", extra=fields)
            case DispatchOutcome.REJECTED:
                tally.rejected.append(campaign.id)
                log.warning("campaign-api refused the due campaign; it failed it with the reason", extra=fields)
            case DispatchOutcome.GONE:
                tally.gone.append(campaign.id)
                log.info("due campaign was deleted before its send", extra=fields)

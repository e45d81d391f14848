"""Deliver a micro-batch of jobs: claim, render, send, record, retry or dead-letter, then ack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from dispatch import outbound_messages
from dispatch.lifecycle import Channel, ClaimedMessage, DeadLetterReason, Outcome
from dispatch.trace_headers import extract_trace_context
from opentelemetry import trace
from opentelemetry.context import Context
from psycopg_pool import AsyncConnectionPool
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from dispatch_worker.domain import Job, OutgoingMessage, Rendered, RetryPolicy, SendOutcome, SendStatus
from dispatch_worker.errors import DatabaseUnavailable, InvalidTemplate
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.ports import JobQueue, Sender, TemplateRenderer

log = logging.getLogger(__name__)
tracer = trace.get_tracer("dispatch_worker")

MAX_ERROR_LENGTH = 500
# a throttled message waits in the shortest tier; it spends no retry, so its tier never grows
THROTTLE_TIER = 1


@dataclass(frozen=True, slots=True)
class _Attempt:
    message: ClaimedMessage
    rendered: Rendered | None  # None: template-svc refused the template
    outcome: SendOutcome
    provider: str

    def recorded(self) -> Outcome:
        """The attempt as the outcome write stores it."""
        accepted = self.outcome.ok
        return Outcome(
            self.message.id,
            self.rendered.text if self.rendered else None,
            self.rendered.segments if self.rendered else None,
            None if accepted else _error(self),
            self.provider if accepted else None,
            self.outcome.provider_message_id if accepted else None,
        )


def _log_outcome_retry(state: RetryCallState) -> None:
    log.warning("could not record outcomes; retrying", extra={"attempt": state.attempt_number})


@dataclass(frozen=True, slots=True)
class Deliver:
    """The worker's one use case; the consumer calls it with each micro-batch."""

    pool: AsyncConnectionPool
    queue: JobQueue
    renderer: TemplateRenderer
    sender: Sender
    policy: RetryPolicy
    metrics: WorkerMetrics
    claim_lease_s: float = 60.0
    outcome_write_backoff_max_s: float = 1.0

    async def __call__(self, jobs: Sequence[Job]) -> None:
        """Work `jobs` to an outcome and ack them; raises PlatformUnavailable with nothing acked or spent."""
        if not jobs:
            return
        self.metrics.batch_size.observe(len(jobs))
        # each job's trace context, read once: the batch span links them, each send span continues its own
        contexts = {j.delivery_id: extract_trace_context(j.headers) for j in jobs}
        links = [trace.Link(trace.get_current_span(c).get_span_context()) for c in contexts.values()]
        # the batch continues its first job's trace, so the render, the outcome write and the completion of a send
        # are found in the trace of the request that queued it; the links lead to every other job's trace
        with tracer.start_as_current_span(
            "dispatch.batch",
            context=contexts[jobs[0].delivery_id],
            links=links,
            attributes={"messaging.batch.message_count": len(jobs)},
        ):
            await self._deliver(jobs, contexts)

    async def _deliver(self, jobs: Sequence[Job], contexts: dict[int, Context]) -> None:
        poison = [j for j in jobs if j.outbound_message_id is None]
        by_id: dict[int, list[Job]] = defaultdict(list)
        for job in jobs:
            if job.outbound_message_id is not None:
                by_id[job.outbound_message_id].append(job)
        redelivered = [i for i, js in by_id.items() if any(j.redelivered for j in js)]

        try:
            async with self.pool.connection() as conn, conn.transaction():
                claimed = await outbound_messages.claim(conn, list(by_id), redelivered, self.claim_lease_s)
                known = {m.id for m in claimed}
                # a paused campaign's messages go back to the outbox, a cancelled one's end; their jobs are acked
                claimed = await outbound_messages.hold_stopped(conn, claimed)
                # only what could not be claimed needs a second look: finished, held elsewhere, or unknown (poison)
                if unclaimed := [i for i in by_id if i not in known]:
                    known |= await outbound_messages.existing_ids(conn, unclaimed)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

        unknown = [j for i, js in by_id.items() if i not in known for j in js]
        if poison or unknown:
            for job in poison:
                await self.queue.dead_letter([job], DeadLetterReason.POISON, job.poison_reason)
            await self.queue.dead_letter(unknown, DeadLetterReason.POISON, "no such outbound message")
            self.metrics.dead_lettered.labels(DeadLetterReason.POISON).inc(len(poison) + len(unknown))

        attempts: list[_Attempt] = []
        if claimed:
            texts = await self._render(claimed)
            attempts = await self._send_all(claimed, texts, {i: contexts[js[0].delivery_id] for i, js in by_id.items()})
            await self._record(attempts)
            await self._forward(attempts, by_id)
        # finished elsewhere, or held by a live worker: ack without sending (duplicate delivery)
        await self.queue.ack(jobs)
        if attempts:
            await self._complete({a.message.campaign_id for a in attempts})

    async def _render(self, claimed: Sequence[ClaimedMessage]) -> dict[int, Rendered | None]:
        """Render each (template, channel) group with one RenderBatch; None for a template template-svc refuses."""
        groups: dict[tuple[str, Channel], list[ClaimedMessage]] = defaultdict(list)
        for message in claimed:
            groups[(message.template, message.channel)].append(message)
        texts: dict[int, Rendered | None] = {}
        try:
            with tracer.start_as_current_span("dispatch.render", attributes={"dispatch.render.groups": len(groups)}):
                for (template, channel), messages in groups.items():
                    rendered: list[Rendered | None]
                    try:
                        rendered = list(
                            await self.renderer.render_batch(template, channel, [m.recipient for m in messages])
                        )
                    except InvalidTemplate:
                        rendered = [None] * len(messages)
                    texts.update(zip((m.id for m in messages), rendered, strict=True))
        except Exception:
            # the platform failed, not the messages: give them back as they were, retries unspent
            await self._unclaim([m.id for m in claimed])
            raise
        return texts

    async def _unclaim(self, ids: Sequence[int]) -> None:
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await outbound_messages.unclaim(conn, ids)
        except psycopg.OperationalError:
            # the redelivered jobs take the 'sending' rows over anyway (redelivered flag or lease)
            log.warning("could not release claims", extra={"messages": len(ids)})

    async def _send_all(
        self, claimed: Sequence[ClaimedMessage], texts: dict[int, Rendered | None], contexts: dict[int, Context]
    ) -> list[_Attempt]:
        return list(await asyncio.gather(*(self._send_one(m, texts[m.id], contexts[m.id]) for m in claimed)))

    async def _send_one(self, message: ClaimedMessage, rendered: Rendered | None, context: Context) -> _Attempt:
        provider = self.sender.provider
        if rendered is None:
            return _Attempt(message, None, SendOutcome.permanent("template rejected by template-svc"), provider)
        outgoing = OutgoingMessage(
            id=message.id,
            channel=message.channel,
            phone=message.recipient.phone,
            text=rendered.text,
            ucs2=rendered.ucs2,
        )
        # the send span continues the trace of the request that created the message
        with tracer.start_as_current_span(
            "dispatch.send",
            context=context,
            attributes={"dispatch.outbound_message_id": message.id, "dispatch.channel": str(message.channel)},
        ) as span:
            started = time.perf_counter()
            try:
                outcome = await self.sender.send(outgoing)
            except Exception as exc:  # a sender bug or transport error counts as a failed attempt
                outcome = SendOutcome.transient(f"{type(exc).__name__}: {exc}")
            self.metrics.send_duration.labels(message.channel).observe(time.perf_counter() - started)
            if not outcome.ok:
                span.set_status(trace.StatusCode.ERROR, outcome.error or "send failed")
        return _Attempt(message, rendered, outcome, provider)

    async def _record(self, attempts: Sequence[_Attempt]) -> None:
        """Write every outcome in one transaction; keep trying while PostgreSQL is away (the sends happened)."""
        sent = [a.recorded() for a in attempts if a.outcome.ok]
        throttled = [a.recorded() for a in attempts if a.outcome.status is SendStatus.THROTTLED]
        retry = [
            a.recorded() for a in attempts if a.outcome.status is SendStatus.TRANSIENT and self._tier(a) is not None
        ]
        failed = [a.recorded() for a in attempts if not a.outcome.ok and self._tier(a) is None]
        # no stop: giving up would resend messages that were sent; the wait stays short so recovery is quick
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.05, jitter=0.05, max=self.outcome_write_backoff_max_s),
            retry=retry_if_exception_type(psycopg.OperationalError),
            before_sleep=_log_outcome_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt, tracer.start_as_current_span("dispatch.record"):
                async with self.pool.connection() as conn, conn.transaction():
                    await outbound_messages.mark_sent(conn, sent)
                    await outbound_messages.mark_throttled(conn, throttled)
                    await outbound_messages.mark_retry(conn, retry)
                    await outbound_messages.mark_failed(conn, failed)
                    # the dead-letter record GET /dead-letters reads (the DLQ publish follows in _forward)
                    await outbound_messages.record_dead_letters(
                        conn,
                        [
                            (a.message.id, _dead_letter_reason(a))
                            for a in attempts
                            if not a.outcome.ok and self._tier(a) is None
                        ],
                    )

    def _tier(self, attempt: _Attempt) -> int | None:
        """The retry tier a failed attempt waits in; None: it fails for good."""
        if attempt.outcome.status is SendStatus.PERMANENT:
            return None  # a refused template or a provider's final refusal fails the same way on every retry
        if attempt.outcome.status is SendStatus.THROTTLED:
            return THROTTLE_TIER
        return self.policy.next_tier(attempt.message.retry_count)

    async def _forward(self, attempts: Sequence[_Attempt], by_id: dict[int, list[Job]]) -> None:
        """Republish retries to their tiers and dead-letter final failures; count each outcome."""
        by_tier: dict[int, list[Job]] = defaultdict(list)
        for a in attempts:
            channel = a.message.channel
            if a.outcome.ok:
                self.metrics.sent.labels(channel).inc()
                continue
            tier = self._tier(a)
            job = by_id[a.message.id][0]  # one republish per message, however many duplicate jobs named it
            if tier is not None:
                by_tier[tier].append(job)
                if a.outcome.status is SendStatus.TRANSIENT:
                    self.metrics.retried.labels(channel).inc()
            else:
                reason = _dead_letter_reason(a)
                await self.queue.dead_letter([job], reason, _error(a))
                self.metrics.failed.labels(channel).inc()
                self.metrics.dead_lettered.labels(reason).inc()
        for tier, tier_jobs in by_tier.items():
            await self.queue.retry_later(tier_jobs, tier)

    async def _complete(self, campaign_ids: set[int]) -> None:
        """After the commit, so the last committer of a campaign sees all its rows terminal."""
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await outbound_messages.complete_campaigns(conn, sorted(campaign_ids))
        except psycopg.OperationalError:
            log.warning("completion check failed; the relay's sweep completes the campaigns later")


def _dead_letter_reason(attempt: _Attempt) -> DeadLetterReason:
    if attempt.rendered is None:
        return DeadLetterReason.INVALID_TEMPLATE
    if attempt.outcome.status is SendStatus.PERMANENT:
        return DeadLetterReason.REJECTED
    return DeadLetterReason.EXHAUSTED


def _error(attempt: _Attempt) -> str:
    return (attempt.outcome.error or "send failed")[:MAX_ERROR_LENGTH]

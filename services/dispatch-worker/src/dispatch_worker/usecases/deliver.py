"""Deliver a micro-batch of jobs: claim, render, send, record, retry or dead-letter, then ack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from dispatch import outbound_messages
from dispatch.lifecycle import Channel, ClaimedMessage, DeadLetterReason, Outcome
from dispatch.trace_headers import extract_trace_context
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from dispatch_worker.domain import Job, OutgoingMessage, Rendered, RetryPolicy, SendOutcome, SendStatus
from dispatch_worker.errors import DatabaseUnavailable, InvalidTemplate
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.ports import JobQueue, Sender, TemplateRenderer
from dispatch_worker.usecases.compliance_gate import ComplianceGate, GateDecision
from dispatch_worker.usecases.sender_choice import Pacing, Route, SenderChoice

log = logging.getLogger(__name__)
tracer = trace.get_tracer("dispatch_worker")

T = TypeVar("T")
MAX_ERROR_LENGTH = 500
# a throttled message waits in the shortest tier; it spends no retry, so its tier never grows
THROTTLE_TIER = 1


@dataclass(frozen=True, slots=True)
class _Attempt:
    message: ClaimedMessage
    rendered: Rendered | None  # None: template-svc refused the template
    outcome: SendOutcome
    provider: str
    sender_id: int | None = None  # the senders row it went through; None: the platform's SENDER

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
            self.sender_id if accepted else None,
            self.outcome.cost if accepted else None,
            self.outcome.cost_currency if accepted else None,
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
    # outcomes are written as sends complete: at most this many per write, or what completed within this time
    record_batch: int = 64
    record_wait_s: float = 0.01
    # senders as data and their shared throughput limits; None: every message goes through `sender`, unpaced
    choice: SenderChoice | None = None
    # suppression, validity and the send window, judged right after the claim (compliance_gate.py)
    gate: ComplianceGate = field(default_factory=ComplianceGate)
    # a span per send; main.py turns it off when no exporter is configured (nothing would record it)
    trace_sends: bool = True

    async def __call__(self, jobs: Sequence[Job]) -> None:
        """Work `jobs` to an outcome and ack them; raises PlatformUnavailable with nothing acked or spent."""
        if not jobs:
            return
        self.metrics.batch_size.observe(len(jobs))
        # each job's trace context, read once: the batch span links them, each send span continues its own
        contexts = {j.delivery_id: extract_trace_context(j.headers) for j in jobs}
        links = (  # only a recorded span needs them
            [trace.Link(trace.get_current_span(c).get_span_context()) for c in contexts.values()]
            if self.trace_sends
            else []
        )
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
                checked: GateDecision = await self.gate(conn, claimed)
                claimed = checked.allowed  # the others ended (suppressed, expired) or wait for their window
                # only what could not be claimed needs a second look: finished, held elsewhere, or unknown (poison)
                if unclaimed := [i for i in by_id if i not in known]:
                    known |= await outbound_messages.existing_ids(conn, unclaimed)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        self._count_gate(checked)  # after the commit: a claim rolled back decided nothing

        unknown = [j for i, js in by_id.items() if i not in known for j in js]
        if poison or unknown:
            for job in poison:
                await self.queue.dead_letter([job], DeadLetterReason.POISON, job.poison_reason)
            await self.queue.dead_letter(unknown, DeadLetterReason.POISON, "no such outbound message")
            self.metrics.dead_lettered.labels(DeadLetterReason.POISON).inc(len(poison) + len(unknown))

        # finished elsewhere, held by a live worker, ended or deferred by the gate, or poison: ack now, unsent
        claimed_ids = {m.id for m in claimed}
        await self.queue.ack([j for i, js in by_id.items() if i not in claimed_ids for j in js] + poison)
        finished = {m.campaign_id for m in claimed} | checked.ended_campaign_ids
        if claimed:
            texts = await self._render(claimed)
            contexts_by_id = {i: contexts[js[0].delivery_id] for i, js in by_id.items()}
            # the batch's last outcome write completes its campaigns on its own connection, after its commit
            if await self._send_and_record(claimed, texts, contexts_by_id, by_id, finished):
                finished = set()
        if finished:
            await self._complete(finished)

    def _count_gate(self, checked: GateDecision) -> None:
        """What the compliance gate decided, by decision, channel and category; how long deferred messages wait."""
        for (verdict, channel, category), n in checked.verdicts.items():
            self.metrics.compliance_decisions.labels(verdict, channel, category).inc(n)
        for channel, wait_s in checked.deferrals:
            self.metrics.compliance_deferral.labels(channel).observe(wait_s)

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

    async def _send_and_record(
        self,
        claimed: Sequence[ClaimedMessage],
        texts: dict[int, Rendered | None],
        contexts: dict[int, Context],
        by_id: dict[int, list[Job]],
        finished: set[int],
    ) -> bool:
        """Send every message at once and record outcomes as the sends complete, micro-batched by count or time;
        True when the last write also completed the `finished` campaigns.

        No barrier: a slow provider answer holds only its own message; the ones that finished are recorded,
        forwarded and acked meanwhile, so a crash resends at most what was in flight and unrecorded.
        """
        routes, pacing = await self._route(claimed, texts)
        # a message whose sender is booked too far ahead went back to the outbox: its job is done here
        await self.queue.ack([j for i in pacing.deferred for j in by_id[i]])
        loop = asyncio.get_running_loop()
        in_flight = {
            asyncio.ensure_future(
                self._send_one(m, texts[m.id], contexts[m.id], routes.get(m.id), pacing.delays.get(m.id))
            )
            for m in claimed
            if m.id not in pacing.deferred
        }
        completes = bool(in_flight)  # the loop's last settle completes the campaigns
        ready: list[_Attempt] = []
        first_ready_at = 0.0
        while in_flight:
            timeout = None if not ready else max(0.0, first_ready_at + self.record_wait_s - loop.time())
            done, in_flight = await asyncio.wait(in_flight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if done and not ready:
                first_ready_at = loop.time()
            ready.extend(task.result() for task in done)
            due = loop.time() >= first_ready_at + self.record_wait_s
            if ready and (not in_flight or len(ready) >= self.record_batch or due):
                await self._settle(ready, by_id, finished if not in_flight else set())
                ready = []
        return completes

    async def _settle(self, attempts: Sequence[_Attempt], by_id: dict[int, list[Job]], complete: set[int]) -> None:
        """Record the attempts in one transaction (then complete the `complete` campaigns on the same connection),
        republish or dead-letter the failures, then ack their jobs."""
        await self._slow_down_throttled(attempts)
        await self._record(attempts, complete)
        await self._forward(attempts, by_id)
        await self.queue.ack([j for a in attempts for j in by_id[a.message.id]])

    async def _slow_down_throttled(self, attempts: Sequence[_Attempt]) -> None:
        """Halve the rate of each sender a provider throttled (the shared bucket: every replica slows down)."""
        if self.choice is None:
            return
        throttled = {
            a.sender_id for a in attempts if a.outcome.status is SendStatus.THROTTLED and a.sender_id is not None
        }
        if not throttled:
            return
        try:
            await self.choice.slow_down(throttled)
        except psycopg.OperationalError:
            # the sends happened: their outcomes must still be written; the next throttle slows the sender
            log.warning("could not slow throttled senders down", extra={"senders": len(throttled)})

    async def _route(
        self, claimed: Sequence[ClaimedMessage], texts: dict[int, Rendered | None]
    ) -> tuple[dict[int, Route], Pacing]:
        """Each message's sender and how long it waits for its tokens (senders as data; none without `choice`).
        Messages whose sender is booked too far ahead go back to the outbox until then, retries unspent."""
        if self.choice is None:
            return {}, Pacing()
        routes = await self._platform_call(self.choice.routes(claimed), claimed)
        # SMS spends one token per segment, WhatsApp one per message; a refused template spends nothing
        tokens = {
            m.id: float(rendered.segments if m.channel is Channel.SMS else 1)
            for m in claimed
            if (rendered := texts[m.id]) is not None
        }
        pacing = await self._platform_call(self.choice.pace(tokens, routes), claimed)
        if pacing.deferred:
            await self._platform_call(self._defer_paced(pacing), claimed)
        return routes, pacing

    async def _defer_paced(self, pacing: Pacing) -> None:
        reason = "waiting for the sender's throughput"
        async with self.pool.connection() as conn, conn.transaction():
            await outbound_messages.defer(conn, [(i, until, reason) for i, until in pacing.deferred.items()])

    async def _platform_call(self, call: Awaitable[T], claimed: Sequence[ClaimedMessage]) -> T:
        """Await a database call of the sender choice; when PostgreSQL is away the claims go back, retries unspent."""
        try:
            return await call
        except psycopg.OperationalError as exc:
            await self._unclaim([m.id for m in claimed])
            raise DatabaseUnavailable(str(exc)) from exc

    async def _send_one(
        self,
        message: ClaimedMessage,
        rendered: Rendered | None,
        context: Context,
        route: Route | None = None,
        delay_s: float | None = None,
    ) -> _Attempt:
        sender = route.sender if route else self.sender
        provider, sender_id = sender.provider, route.sender_id if route else None
        if rendered is None:
            return _Attempt(message, None, SendOutcome.permanent("template rejected by template-svc"), provider)
        if delay_s:
            await asyncio.sleep(delay_s)  # its turn in the sender's shared token bucket
        outgoing = OutgoingMessage(
            id=message.id,
            channel=message.channel,
            phone=message.recipient.phone,
            text=rendered.text,
            ucs2=rendered.ucs2,
            service_window_open=route.service_window_open if route else False,
        )
        started = time.perf_counter()
        if self.trace_sends:
            # the send span continues the trace of the request that created the message
            with tracer.start_as_current_span(
                "dispatch.send",
                context=context,
                attributes={"dispatch.outbound_message_id": message.id, "dispatch.channel": str(message.channel)},
            ) as span:
                outcome = await self._attempt(sender, outgoing)
                if not outcome.ok:
                    span.set_status(trace.StatusCode.ERROR, outcome.error or "send failed")
        else:
            # nothing records spans: no span object per message, but the send still runs in its message's trace
            # context, so a log line of the sender carries that trace's id
            token = otel_context.attach(context)
            try:
                outcome = await self._attempt(sender, outgoing)
            finally:
                otel_context.detach(token)
        elapsed = time.perf_counter() - started
        self.metrics.child(self.metrics.send_duration, message.channel).observe(elapsed)
        self.metrics.child(self.metrics.provider_send_duration, provider).observe(elapsed)
        if outcome.status is SendStatus.THROTTLED:
            self.metrics.child(self.metrics.provider_throttles, provider).inc()
        return _Attempt(message, rendered, outcome, provider, sender_id)

    @staticmethod
    async def _attempt(sender: Sender, outgoing: OutgoingMessage) -> SendOutcome:
        try:
            return await sender.send(outgoing)
        except Exception as exc:  # a sender bug or transport error counts as a failed attempt
            return SendOutcome.transient(f"{type(exc).__name__}: {exc}")

    async def _record(self, attempts: Sequence[_Attempt], complete: set[int]) -> None:
        """Write every outcome in one transaction; keep trying while PostgreSQL is away (the sends happened). Then,
        after the commit and on the same connection, complete the `complete` campaigns."""
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
                async with self.pool.connection() as conn:
                    # pipelined: BEGIN, the writes and COMMIT travel together, one round trip for the whole write
                    async with conn.pipeline(), conn.transaction():
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
                    if complete:
                        await self._complete_on(conn, complete)

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
        sent: Counter[Channel] = Counter()
        for a in attempts:
            channel = a.message.channel
            if a.outcome.ok:
                sent[channel] += 1
                continue
            tier = self._tier(a)
            job = by_id[a.message.id][0]  # one republish per message, however many duplicate jobs named it
            if tier is not None:
                by_tier[tier].append(job)
                if a.outcome.status is SendStatus.TRANSIENT:
                    self.metrics.child(self.metrics.retried, channel).inc()
            else:
                reason = _dead_letter_reason(a)
                await self.queue.dead_letter([job], reason, _error(a))
                self.metrics.child(self.metrics.failed, channel).inc()
                self.metrics.child(self.metrics.dead_lettered, reason).inc()
        for channel, count in sent.items():
            self.metrics.child(self.metrics.sent, channel).inc(count)
        for tier, tier_jobs in by_tier.items():
            await self.queue.retry_later(tier_jobs, tier)

    async def _complete(self, campaign_ids: set[int]) -> None:
        """After the commit, so the last committer of a campaign sees all its rows terminal."""
        try:
            async with self.pool.connection() as conn:
                await self._complete_on(conn, campaign_ids)
        except psycopg.OperationalError:
            log.warning("completion check failed; the relay's sweep completes the campaigns later")

    @staticmethod
    async def _complete_on(conn: psycopg.AsyncConnection[TupleRow], campaign_ids: set[int]) -> None:
        try:
            async with conn.transaction():
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

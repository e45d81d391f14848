"""Fakes of the worker's ports: the same Protocols as the adapters, no inheritance; they record instead."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.codec import PoisonJob, decode_jobs, encode_job
from dispatch.lifecycle import Channel, Recipient
from dispatch_worker.domain import Job, OutgoingMessage, Rendered, SendOutcome
from dispatch_worker.errors import TemplateUnavailable


@dataclass
class InMemoryJobQueue:
    """The JobQueue port in memory: a work queue, retry tiers, a DLQ, deliveries held until acked or released."""

    ready: deque[Job] = field(default_factory=deque)
    held: dict[int, Job] = field(default_factory=dict)
    acked: list[Job] = field(default_factory=list)
    retries: list[tuple[Job, int]] = field(default_factory=list)
    dead: list[tuple[Job, str, str | None]] = field(default_factory=list)
    stopped: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def put(self, body: bytes, headers: Mapping[str, str] | None = None, *, redelivered: bool = False) -> None:
        """Enqueue a job body as a publisher would: one job per message it names, each with its own body."""
        try:
            ids = decode_jobs(body)
        except PoisonJob as exc:
            self.ready.append(Job(next(self._ids), None, body, dict(headers or {}), redelivered, str(exc)))
            return
        for message_id in ids:
            own = body if len(ids) == 1 else encode_job(message_id)
            self.ready.append(Job(next(self._ids), message_id, own, dict(headers or {}), redelivered=redelivered))

    def expire_retries(self) -> list[int]:
        """Every job waiting in a tier returns to the work queue (its TTL passed); return their tiers."""
        tiers = [tier for _, tier in self.retries]
        for job, _ in self.retries:
            self.put(job.body, job.headers)
        self.retries.clear()
        return tiers

    async def receive(self, max_jobs: int, max_wait_s: float) -> list[Job]:
        """Hand out up to `max_jobs` ready jobs; [] after a short wait when none is ready or when stopped."""
        if self.stopped:
            return []
        if not self.ready:
            await asyncio.sleep(min(max_wait_s, 0.01))
            return []
        jobs = [self.ready.popleft() for _ in range(min(max_jobs, len(self.ready)))]
        self.held.update({j.delivery_id: j for j in jobs})
        return jobs

    async def ack(self, jobs: Sequence[Job]) -> None:
        """Forget the jobs."""
        for job in jobs:
            if (held := self.held.pop(job.delivery_id, None)) is not None:  # an acked job is acked once
                self.acked.append(held)

    async def release(self, jobs: Sequence[Job]) -> None:
        """Back to the head of the work queue, flagged redelivered like the broker does."""
        for job in reversed(jobs):
            held = self.held.pop(job.delivery_id, None)
            if held is None:  # already acked: nothing to give back, as with the broker
                continue
            self.ready.appendleft(
                Job(next(self._ids), held.outbound_message_id, held.body, held.headers, True, held.poison_reason)
            )

    async def retry_later(self, jobs: Sequence[Job], tier: int) -> None:
        """Record the jobs in retry tier `tier`."""
        self.retries.extend((job, tier) for job in jobs)

    async def dead_letter(self, jobs: Sequence[Job], reason: str, last_error: str | None) -> None:
        """Record the jobs in the DLQ with their reason."""
        self.dead.extend((job, reason, last_error) for job in jobs)

    async def stop_intake(self) -> None:
        """Hand out nothing more."""
        self.stopped = True


@dataclass
class ScriptedSender:
    """The Sender port: answers each message with its scripted outcomes in turn, then accepts; records every attempt.

    `failures` is the short form for transient failures: {message id: how many attempts fail}.
    """

    failures: dict[int, int] = field(default_factory=dict)
    script: dict[int, list[SendOutcome]] = field(default_factory=dict)
    provider_message_ids: bool = False  # accept with "fake-<id>" as the provider's id
    sent: list[OutgoingMessage] = field(default_factory=list)
    closed: bool = False
    provider: str = "fake"

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """The next scripted outcome, or a transient failure while `failures` says so, else accepted."""
        self.sent.append(message)
        if self.script.get(message.id):
            return self.script[message.id].pop(0)
        if self.failures.get(message.id, 0) > 0:
            self.failures[message.id] -= 1
            return SendOutcome.transient("scripted failure")
        return SendOutcome.accepted(f"fake-{message.id}" if self.provider_message_ids else None)

    async def close(self) -> None:
        """Nothing to release."""
        self.closed = True


@dataclass
class FakeRenderer:
    """The TemplateRenderer port: "<template>/<first_name>" in one segment, or TemplateUnavailable while `down`."""

    down: bool = False
    calls: int = 0

    async def render_batch(self, template: str, channel: Channel, recipients: Sequence[Recipient]) -> list[Rendered]:
        """One text per recipient, in order."""
        self.calls += 1
        if self.down:
            raise TemplateUnavailable("fake template-svc is down")
        return [Rendered(f"{template}/{r.first_name}", 1) for r in recipients]

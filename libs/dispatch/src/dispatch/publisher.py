"""Publishing jobs with persistent delivery and publisher confirms, a batch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractExchange
from opentelemetry import context as otel_context

from dispatch.codec import CONTENT_TYPE, encode_jobs
from dispatch.topology import DEAD_ROUTING_KEY, PRIORITY_ROUTING_KEY, WORK_ROUTING_KEY, Topology, declare_topology
from dispatch.trace_headers import extract_trace_context


@dataclass(frozen=True, slots=True)
class OutgoingJob:
    """One job to publish: the message id and headers (trace context plus any x- headers); the relay packs more
    messages of the same lane and trace into it (`more_ids`)."""

    outbound_message_id: int
    headers: Mapping[str, str] = field(default_factory=dict)
    more_ids: tuple[int, ...] = ()

    @property
    def ids(self) -> tuple[int, ...]:
        """Every message the job names, in order."""
        return (self.outbound_message_id, *self.more_ids)


class JobPublisher:
    """Publishes jobs to the pipeline's exchange; returns only once the broker confirmed every one."""

    def __init__(self, exchange: AbstractExchange, topology: Topology, confirm_timeout_s: float = 30.0) -> None:
        """Publish to the declared exchange of a channel opened with publisher confirms (aio-pika's default)."""
        self.exchange = exchange
        self.topology = topology
        self.confirm_timeout_s = confirm_timeout_s

    @classmethod
    async def open(cls, channel: AbstractChannel, topology: Topology, confirm_timeout_s: float = 30.0) -> JobPublisher:
        """Declare the topology on `channel` (idempotent) and publish through it."""
        exchange = await declare_topology(channel, topology)
        return cls(exchange, topology, confirm_timeout_s)

    async def publish_work(self, jobs: Sequence[OutgoingJob]) -> None:
        """Publish jobs to the work queue and await all their confirms together."""
        await self._publish(jobs, WORK_ROUTING_KEY)

    async def publish_priority(self, jobs: Sequence[OutgoingJob]) -> None:
        """Publish jobs to the priority lane and await all their confirms together."""
        await self._publish(jobs, PRIORITY_ROUTING_KEY)

    async def publish_retry(self, jobs: Sequence[OutgoingJob], tier: int) -> None:
        """Publish jobs to retry tier `tier`, from where they return to the work queue after its TTL."""
        await self._publish(jobs, self.topology.retry_routing_key(tier))

    async def publish_dead(self, jobs: Sequence[OutgoingJob]) -> None:
        """Publish jobs to the DLQ."""
        await self._publish(jobs, DEAD_ROUTING_KEY)

    async def publish_raw_dead(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Publish an unparseable body to the DLQ as it came, so an operator can read it."""
        await asyncio.wait_for(
            self.exchange.publish(self._message(body, headers), DEAD_ROUTING_KEY), self.confirm_timeout_s
        )

    async def _publish(self, jobs: Sequence[OutgoingJob], routing_key: str) -> None:
        if not jobs:
            return
        tasks = []
        for job in jobs:
            message = self._message(encode_jobs(job.ids), job.headers)
            if not job.headers:  # no trace context to continue: no context switch per message
                tasks.append(asyncio.ensure_future(self.exchange.publish(message, routing_key)))
                continue
            # each publish runs in the job's own trace context, so an instrumented publish continues that trace
            token = otel_context.attach(extract_trace_context(job.headers))
            try:
                tasks.append(asyncio.ensure_future(self.exchange.publish(message, routing_key)))
            finally:
                otel_context.detach(token)
        # a broker that went silent (no reset, no confirm) must not hold the caller forever
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), self.confirm_timeout_s)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    @staticmethod
    def _message(body: bytes, headers: Mapping[str, str]) -> Message:
        return Message(
            body,
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT,
            headers=dict(headers),
        )

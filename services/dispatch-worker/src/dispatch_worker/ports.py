"""The ports the deliver use case needs; adapters implement them without inheriting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dispatch.lifecycle import Channel, Recipient

from dispatch_worker.domain import Job, OutgoingMessage, Rendered, SendOutcome


class JobQueue(Protocol):
    """Where jobs come from and go to: the work queue, the retry tiers and the DLQ."""

    async def receive(self, max_jobs: int, max_wait_s: float) -> list[Job]:
        """Wait for one job, then gather more until `max_jobs` or `max_wait_s`; [] when stopped or idle."""
        ...

    async def ack(self, jobs: Sequence[Job]) -> None:
        """The jobs are done: the broker forgets them."""
        ...

    async def release(self, jobs: Sequence[Job]) -> None:
        """Give jobs back to the work queue untouched (platform failure or shutdown)."""
        ...

    async def retry_later(self, jobs: Sequence[Job], tier: int) -> None:
        """Publish jobs to retry tier `tier` (confirmed); the originals still need an ack."""
        ...

    async def dead_letter(self, jobs: Sequence[Job], reason: str, last_error: str | None) -> None:
        """Publish jobs to the DLQ with the reason in their headers (confirmed); originals still need an ack."""
        ...

    async def stop_intake(self) -> None:
        """Take no new jobs (SIGTERM); jobs already received may still be acked or released."""
        ...


class TemplateRenderer(Protocol):
    """template-svc, as the worker sees it: one template for many recipients (RenderBatch)."""

    async def render_batch(self, template: str, channel: Channel, recipients: Sequence[Recipient]) -> list[Rendered]:
        """Texts and segments in recipient order; raises TemplateUnavailable or InvalidTemplate."""
        ...


class Sender(Protocol):
    """Hands one message to the channel provider."""

    @property
    def provider(self) -> str:
        """The provider's name, stored with each message it accepted ("mock", "kannel")."""
        ...

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """Hand the message over and say, by class, what the provider made of it; never raises for a refusal."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...

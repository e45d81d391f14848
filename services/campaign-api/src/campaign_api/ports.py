"""The ports campaign-api's use cases depend on; adapters implement them without inheriting."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from dispatch.lifecycle import Channel

from campaign_api.domain import Customer, RenderedMessage, TemplateProblem


class TemplateRenderer(Protocol):
    """template-svc, as the use cases see it."""

    async def validate(
        self, template: str, channel: Channel, attribute_names: Collection[str] = ()
    ) -> TemplateProblem | None:
        """Return the first problem of the template, or None when it is valid (`attribute_names`: the account's
        custom attributes, usable as placeholders)."""
        ...

    async def render(
        self, template: str, customer: Customer, channel: Channel, attribute_names: Collection[str] = ()
    ) -> RenderedMessage:
        """Render the template for one customer; raise InvalidTemplate when the template is bad."""
        ...

    async def render_batch(
        self,
        template: str,
        customers: Sequence[Customer],
        channel: Channel,
        attribute_names: Collection[str] = (),
        *,
        deadline_s: float | None = None,
    ) -> list[RenderedMessage]:
        """Render the template for each customer, in order (the template parsed once); `deadline_s` bounds the
        call below the renderer's own deadline. Raise InvalidTemplate or TemplateServiceUnavailable."""
        ...

    async def check(self) -> None:
        """Raise when the renderer does not answer (readiness)."""
        ...


class Clock(Protocol):
    """The current time, aware; injected so tests can pin it."""

    def __call__(self) -> datetime: ...


class DeadLetterQueue(Protocol):
    """The broker's DLQ, as a replay sees it: jobs of messages sent again must leave it."""

    async def prune(self) -> int | None:
        """Take the jobs of messages that are no longer dead letters off the DLQ; how many, or None when the
        broker did not answer (the next replay prunes them)."""
        ...

"""Fakes for campaign-api's ports (no inheritance: mypy checks the fit where they are injected)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from campaign_api.domain import Customer, RenderedMessage, TemplateProblem
from dispatch.lifecycle import Channel


@dataclass
class BrokenRenderer:
    """A TemplateRenderer whose render fails with a bug-like exception (to prove the 500 path)."""

    async def validate(
        self, template: str, channel: Channel, attribute_names: Collection[str] = ()
    ) -> TemplateProblem | None:
        """Every template is fine."""
        return None

    async def render(
        self, template: str, customer: Customer, channel: Channel, attribute_names: Collection[str] = ()
    ) -> RenderedMessage:
        """Fail the way a programming error would."""
        raise RuntimeError("renderer exploded with a secret stack trace")

    async def render_batch(
        self,
        template: str,
        customers: Sequence[Customer],
        channel: Channel,
        attribute_names: Collection[str] = (),
        *,
        deadline_s: float | None = None,
    ) -> list[RenderedMessage]:
        """Fail the way a programming error would."""
        raise RuntimeError("renderer exploded with a secret stack trace")

    async def check(self) -> None:
        """Always ready."""

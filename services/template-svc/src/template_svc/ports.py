"""The personalisation seam: what a personaliser is given and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from template_svc.domain.message_facts import Channel
from template_svc.domain.template_language import CompiledTemplate, CustomerFields


@dataclass(frozen=True, slots=True)
class PersonalizationRequest:
    """One template for many customers on one channel, within the time the caller allows."""

    template: CompiledTemplate
    customers: Sequence[CustomerFields]
    channel: Channel
    time_budget_s: float | None = None  # seconds left before the caller's deadline; None = no deadline


@dataclass(frozen=True, slots=True)
class Personalized:
    """One text per customer, in request order, and the strategy that actually wrote them."""

    texts: Sequence[str]
    strategy: str


class Personalizer(Protocol):
    """A strategy that writes each customer's message; the template strategy is the default."""

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        """Write one message per customer, in order; raise on failure (callers may fall back)."""
        ...

"""Render one template for one or many customers with the chosen strategy, with each message's facts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from template_svc.domain.message_facts import Channel, MessageFacts, measure
from template_svc.domain.template_language import AttributeNames, CompiledTemplate, CustomerFields, compile_template
from template_svc.personalizers.registry import PersonalizerRegistry
from template_svc.ports import PersonalizationRequest


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One customer's message and its facts on the channel."""

    text: str
    facts: MessageFacts


@dataclass(frozen=True, slots=True)
class RenderedBatch:
    """One message per customer, in request order, and the strategy that wrote them."""

    messages: list[RenderedMessage]
    strategy: str


# a campaign renders the same template for every customer: parse it once per process, not once per call
compile_cached = functools.lru_cache(maxsize=1024)(compile_template)


@dataclass(frozen=True, slots=True)
class RenderMessages:
    """Render a template for customers on a channel; raise InvalidTemplate or UnknownStrategy on bad input."""

    personalizers: PersonalizerRegistry

    async def __call__(
        self,
        template: str,
        customers: Sequence[CustomerFields],
        channel: Channel,
        strategy: str = "",
        time_budget_s: float | None = None,
        attributes: AttributeNames = frozenset(),
    ) -> RenderedBatch:
        """Render every customer's message, in order, with its facts (`attributes`: the custom attribute names the
        template may use)."""
        personalizer = self.personalizers.resolve(strategy)
        compiled: CompiledTemplate = compile_cached(template, attributes)
        result = await personalizer.personalize(PersonalizationRequest(compiled, customers, channel, time_budget_s))
        return RenderedBatch([RenderedMessage(text, measure(text, channel)) for text in result.texts], result.strategy)

"""Fake personalisation strategies: the Personalizer Protocol, no inheritance."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from template_svc.ports import PersonalizationRequest, Personalized


@dataclass
class ShoutingPersonalizer:
    """Stands in for a model: the template's text upper-cased; records each request."""

    requests: list[PersonalizationRequest] = field(default_factory=list)

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        self.requests.append(request)
        return Personalized([request.template.render(c).upper() for c in request.customers], "shouting")


@dataclass
class FailingPersonalizer:
    """A strategy whose backend is down."""

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        raise ConnectionError("model endpoint refused the connection")


@dataclass
class SlowPersonalizer:
    """A strategy that takes longer than any caller waits."""

    delay_s: float = 5.0

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        await asyncio.sleep(self.delay_s)
        return Personalized(["too late"] * len(request.customers), "slow")

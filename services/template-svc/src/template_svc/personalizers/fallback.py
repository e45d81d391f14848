"""Run a strategy that may fail or be slow (an AI model) with a time budget, falling back to another."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from template_svc.ports import PersonalizationRequest, Personalized, Personalizer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FallbackPersonalizer:
    """Try `primary` within its budget and the caller's deadline; on any failure or timeout use `fallback`."""

    primary: Personalizer
    fallback: Personalizer
    name: str
    budget_s: float = 2.0
    # time kept back from the caller's deadline so the fallback still answers in time
    reserve_s: float = 0.05

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        """The primary's texts, or the fallback's when the primary fails or runs out of time."""
        budget = self.budget_s
        if request.time_budget_s is not None:
            budget = min(budget, request.time_budget_s - self.reserve_s)
        if budget > 0:
            try:
                async with asyncio.timeout(budget):
                    result = await self.primary.personalize(request)
                if len(result.texts) == len(request.customers):
                    return result
                log.warning(
                    "strategy %s returned %d texts for %d customers; falling back",
                    self.name,
                    len(result.texts),
                    len(request.customers),
                )
            except Exception as exc:  # whatever the strategy raises, the caller still gets its messages
                log.warning("strategy %s failed (%s); falling back", self.name, type(exc).__name__)
        return await self.fallback.personalize(request)

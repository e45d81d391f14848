"""The default strategy: the template rendered as written, with the customer's fields filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from template_svc.ports import PersonalizationRequest, Personalized

TEMPLATE_STRATEGY: Final = "template"


@dataclass(frozen=True, slots=True)
class TemplatePersonalizer:
    """Render the compiled template for each customer: pure, fast, never fails for any field values."""

    async def personalize(self, request: PersonalizationRequest) -> Personalized:
        """Render one message per customer, in order."""
        render = request.template.render
        return Personalized([render(fields) for fields in request.customers], TEMPLATE_STRATEGY)

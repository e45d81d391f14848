"""Personalisers by strategy name; "" means the default template strategy."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from template_svc.errors import UnknownStrategy
from template_svc.personalizers.template_strategy import TEMPLATE_STRATEGY, TemplatePersonalizer
from template_svc.ports import Personalizer


class PersonalizerRegistry:
    """Resolve a request's strategy name to its personaliser."""

    def __init__(self, extra: Mapping[str, Personalizer] | None = None) -> None:
        strategies: dict[str, Personalizer] = {TEMPLATE_STRATEGY: TemplatePersonalizer()}
        strategies.update(extra or {})
        self._strategies = MappingProxyType(strategies)

    @property
    def names(self) -> tuple[str, ...]:
        """Every registered strategy name, sorted."""
        return tuple(sorted(self._strategies))

    def resolve(self, strategy: str) -> Personalizer:
        """The personaliser for `strategy` ("" = the template strategy); raise UnknownStrategy otherwise."""
        personalizer = self._strategies.get(strategy or TEMPLATE_STRATEGY)
        if personalizer is None:
            raise UnknownStrategy(strategy, self.names)
        return personalizer

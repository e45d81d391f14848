"""The template service's errors, each with a stable UPPER_SNAKE code; the gRPC adapter maps them once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from template_svc.domain.template_language import TemplateError


class TemplateServiceError(Exception):
    """Base of every error this service reports to its callers."""

    code = "INTERNAL_ERROR"


class InvalidInput(TemplateServiceError):
    """The request cannot be served as written (gRPC INVALID_ARGUMENT)."""

    code = "INVALID_INPUT"


class InvalidTemplate(InvalidInput):
    """The template has syntax errors or unknown placeholders; carries every error found."""

    code = "INVALID_TEMPLATE"

    def __init__(self, errors: Sequence[TemplateError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(f"invalid template: {first.message}")


class UnknownStrategy(InvalidInput):
    """No personaliser is registered under the requested strategy name."""

    code = "UNKNOWN_STRATEGY"

    def __init__(self, strategy: str, known: Sequence[str]) -> None:
        self.strategy = strategy
        super().__init__(f"unknown personalisation strategy {strategy!r}; known strategies: {', '.join(known)}")


class UnsupportedChannel(InvalidInput):
    """The request names no channel the service can measure a message for."""

    code = "UNSUPPORTED_CHANNEL"

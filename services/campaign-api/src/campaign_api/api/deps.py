"""What handlers receive through FastAPI's dependency injection: the use cases the lifespan built, and request facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Header, Request
from opentelemetry import propagate
from service_kit.readiness import Check

from campaign_api.metrics import ApiMetrics

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApiState:
    """What the lifespan puts on app.state.api: every use case by its type, and the readiness checks."""

    usecases: Mapping[type[Any], object]
    readiness_checks: Mapping[str, Check]


def api_state(request: Request) -> ApiState:
    """The running app's state (set by the lifespan before any request)."""
    return cast(ApiState, request.app.state.api)


def use(kind: type[T]) -> Any:
    """Hand a route the use case of type `kind`: `send: Annotated[SendCampaign, use(SendCampaign)]`."""

    def provide(request: Request) -> T:
        return cast(T, api_state(request).usecases[kind])

    return Depends(provide)


def api_metrics(request: Request) -> ApiMetrics:
    """The metrics (set by create_app, so they exist even before the lifespan runs)."""
    return cast(ApiMetrics, request.app.state.metrics)


def traceparent(request: Request) -> str | None:
    """The W3C traceparent to store with outbox rows: the current span's, else the caller's header."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent") or request.headers.get("traceparent")


ApiStateDep = Annotated[ApiState, Depends(api_state)]
MetricsDep = Annotated[ApiMetrics, Depends(api_metrics)]
TraceparentDep = Annotated[str | None, Depends(traceparent)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="replays the first answer for 24 h; reusing it with another body is a 422",
    ),
]

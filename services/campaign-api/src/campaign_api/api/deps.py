"""What handlers receive through FastAPI's dependency injection: the use cases the lifespan built, and request facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import propagate
from service_kit.readiness import Check

from campaign_api.accounts import Caller, Scope
from campaign_api.errors import Forbidden, Unauthenticated
from campaign_api.metrics import ApiMetrics
from campaign_api.usecases.authenticate import Authenticate

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApiState:
    """What the lifespan puts on app.state.api: every use case by its type, and the readiness checks."""

    usecases: Mapping[type[Any], object]
    readiness_checks: Mapping[str, Check]


def api_state(request: Request) -> ApiState:
    """The running app's state (set by the lifespan before any request)."""
    return cast(ApiState, request.app.state.api)


# every dependency below is `async def`: FastAPI runs a plain `def` one in a worker thread, whose hand-off (and the
# GIL passed back and forth) cost more than the lookup itself on every request


async def state_of(request: Request) -> ApiState:
    """api_state, as a dependency."""
    return api_state(request)


def use(kind: type[T]) -> Any:
    """Hand a route the use case of type `kind`: `send: Annotated[SendCampaign, use(SendCampaign)]`."""

    async def provide(request: Request) -> T:
        return cast(T, api_state(request).usecases[kind])

    return Depends(provide)


# declared in OpenAPI as the bearer scheme (the Authorize button of /docs); missing credentials are ours to answer
bearer_scheme = HTTPBearer(
    auto_error=False, description="An API key of your account: `Authorization: Bearer <key>` (see docs/api.md)"
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def require(*scopes: Scope, buckets: tuple[str, ...] = ("api",)) -> Any:
    """The authenticated caller, holding at least one of `scopes`: 401 without a valid key, 403 without the scope,
    429 past the key's rate limit in any of `buckets`."""

    async def authenticate(request: Request, credentials: BearerCredentials) -> Caller:
        if credentials is None:
            raise Unauthenticated("an API key is required: send Authorization: Bearer <key>")
        authenticate_key = cast(Authenticate, api_state(request).usecases[Authenticate])
        caller = await authenticate_key(credentials.credentials, buckets)
        if caller is None:
            raise Unauthenticated("the API key is unknown or revoked")
        if not caller.has_any(*scopes):
            raise Forbidden([scope.value for scope in scopes])
        return caller

    return Depends(authenticate)


async def api_metrics(request: Request) -> ApiMetrics:
    """The metrics (set by create_app, so they exist even before the lifespan runs)."""
    return cast(ApiMetrics, request.app.state.metrics)


async def traceparent(request: Request) -> str | None:
    """The W3C traceparent to store with outbox rows: the current span's, else the caller's header."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent") or request.headers.get("traceparent")


ApiStateDep = Annotated[ApiState, Depends(state_of)]
CampaignsReader = Annotated[Caller, require(Scope.CAMPAIGNS_READ)]
CampaignsWriter = Annotated[Caller, require(Scope.CAMPAIGNS_WRITE)]
# an account's own due list, or (the scheduler's system key) every account's
DueReader = Annotated[Caller, require(Scope.CAMPAIGNS_READ, Scope.CAMPAIGNS_SCHEDULE)]
# an account's send, or the scheduler's send of a campaign that is due
Sender = Annotated[Caller, require(Scope.CAMPAIGNS_SEND, Scope.CAMPAIGNS_SCHEDULE, buckets=("api", "send"))]
CustomersReader = Annotated[Caller, require(Scope.CUSTOMERS_READ)]
CustomersWriter = Annotated[Caller, require(Scope.CUSTOMERS_WRITE)]
KeysAdmin = Annotated[Caller, require(Scope.KEYS_ADMIN)]
AuditReader = Annotated[Caller, require(Scope.AUDIT_READ)]
SendersReader = Annotated[Caller, require(Scope.SENDERS_READ)]
SendersWriter = Annotated[Caller, require(Scope.SENDERS_WRITE)]
# compliance (issue 15)
SuppressionsReader = Annotated[Caller, require(Scope.SUPPRESSIONS_READ)]
SuppressionsWriter = Annotated[Caller, require(Scope.SUPPRESSIONS_WRITE)]
ComplianceAdmin = Annotated[Caller, require(Scope.COMPLIANCE_ADMIN)]
InboundReader = Annotated[Caller, require(Scope.INBOUND_READ)]
InboundWriter = Annotated[Caller, require(Scope.INBOUND_WRITE)]
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

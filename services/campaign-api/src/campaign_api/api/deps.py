"""What handlers receive through FastAPI's dependency injection: Annotated aliases over the app's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Header, Request
from opentelemetry import propagate
from service_kit.readiness import Check

from campaign_api.metrics import ApiMetrics
from campaign_api.usecases.cancel_campaign import CancelCampaign
from campaign_api.usecases.create_campaign import CreateCampaign
from campaign_api.usecases.create_customer import CreateCustomer
from campaign_api.usecases.get_campaign import GetCampaign
from campaign_api.usecases.get_customer import GetCustomer
from campaign_api.usecases.list_campaigns import ListCampaigns
from campaign_api.usecases.list_customers import ListCustomers
from campaign_api.usecases.list_due_campaigns import ListDueCampaigns
from campaign_api.usecases.preview_message import PreviewMessage
from campaign_api.usecases.send_campaign import SendCampaign
from campaign_api.usecases.update_campaign import UpdateCampaign


@dataclass(frozen=True, slots=True)
class UseCases:
    """Every use case the HTTP adapter calls, built by the composition root's lifespan."""

    create_campaign: CreateCampaign
    list_campaigns: ListCampaigns
    list_due_campaigns: ListDueCampaigns
    get_campaign: GetCampaign
    send_campaign: SendCampaign
    preview_message: PreviewMessage
    create_customer: CreateCustomer
    list_customers: ListCustomers
    get_customer: GetCustomer
    update_campaign: UpdateCampaign
    cancel_campaign: CancelCampaign


@dataclass(frozen=True, slots=True)
class ApiState:
    """What the lifespan puts on app.state.api."""

    usecases: UseCases
    readiness_checks: Mapping[str, Check]


def api_state(request: Request) -> ApiState:
    """The running app's state (set by the lifespan before any request)."""
    return cast(ApiState, request.app.state.api)


def usecases(request: Request) -> UseCases:
    """The use cases."""
    return api_state(request).usecases


def api_metrics(request: Request) -> ApiMetrics:
    """The metrics (set by create_app, so they exist even before the lifespan runs)."""
    return cast(ApiMetrics, request.app.state.metrics)


def traceparent(request: Request) -> str | None:
    """The W3C traceparent to store with outbox rows: the current span's, else the caller's header."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent") or request.headers.get("traceparent")


def create_campaign(request: Request) -> CreateCampaign:
    """The create campaign use case."""
    return usecases(request).create_campaign


def list_campaigns(request: Request) -> ListCampaigns:
    """The list campaigns use case."""
    return usecases(request).list_campaigns


def list_due_campaigns(request: Request) -> ListDueCampaigns:
    """The list due campaigns use case."""
    return usecases(request).list_due_campaigns


def get_campaign(request: Request) -> GetCampaign:
    """The get campaign use case."""
    return usecases(request).get_campaign


def send_campaign(request: Request) -> SendCampaign:
    """The send campaign use case."""
    return usecases(request).send_campaign


def update_campaign(request: Request) -> UpdateCampaign:
    """The update campaign use case."""
    return usecases(request).update_campaign


def cancel_campaign(request: Request) -> CancelCampaign:
    """The cancel campaign use case."""
    return usecases(request).cancel_campaign


def preview_message(request: Request) -> PreviewMessage:
    """The preview message use case."""
    return usecases(request).preview_message


def create_customer(request: Request) -> CreateCustomer:
    """The create customer use case."""
    return usecases(request).create_customer


def list_customers(request: Request) -> ListCustomers:
    """The list customers use case."""
    return usecases(request).list_customers


def get_customer(request: Request) -> GetCustomer:
    """The get customer use case."""
    return usecases(request).get_customer


CreateCampaignDep = Annotated[CreateCampaign, Depends(create_campaign)]
ListCampaignsDep = Annotated[ListCampaigns, Depends(list_campaigns)]
ListDueCampaignsDep = Annotated[ListDueCampaigns, Depends(list_due_campaigns)]
GetCampaignDep = Annotated[GetCampaign, Depends(get_campaign)]
SendCampaignDep = Annotated[SendCampaign, Depends(send_campaign)]
UpdateCampaignDep = Annotated[UpdateCampaign, Depends(update_campaign)]
CancelCampaignDep = Annotated[CancelCampaign, Depends(cancel_campaign)]
PreviewMessageDep = Annotated[PreviewMessage, Depends(preview_message)]
CreateCustomerDep = Annotated[CreateCustomer, Depends(create_customer)]
ListCustomersDep = Annotated[ListCustomers, Depends(list_customers)]
GetCustomerDep = Annotated[GetCustomer, Depends(get_customer)]
UseCasesDep = Annotated[UseCases, Depends(usecases)]
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

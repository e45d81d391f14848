"""campaign-api's scheduling endpoints over HTTP (the CampaignApi port)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import AwareDatetime, BaseModel, ValidationError

from scheduler.domain import DispatchOutcome, DispatchResult, DueCampaign
from scheduler.errors import CampaignApiUnavailable, UnexpectedResponse

IDEMPOTENCY_HEADER = "Idempotency-Key"
# set by the API when it answers a repeated Idempotency-Key with the stored first answer
REPLAYED_HEADER = "Idempotent-Replayed"
NOT_SENDABLE = "CAMPAIGN_NOT_SENDABLE"
# a due campaign with no audience, or one matching nobody: the API has failed it with a recorded reason
NO_AUDIENCE = frozenset({"AUDIENCE_REQUIRED", "AUDIENCE_EMPTY"})

M = TypeVar("M", bound=BaseModel)


class _DueItem(BaseModel):
    id: int
    name: str
    scheduled_at: AwareDatetime


class _DueListing(BaseModel):
    data: list[_DueItem]


class _SendAnswer(BaseModel):
    campaign_id: int
    messages_queued: int
    status: str


@dataclass(frozen=True, slots=True)
class HttpCampaignApi:
    """Talks to campaign-api through a shared AsyncClient whose base_url is campaign-api's."""

    client: httpx.AsyncClient

    async def list_due(self, limit: int) -> Sequence[DueCampaign]:
        """GET /campaigns/due?limit=N."""
        response = await self._request("GET", "/campaigns/due", params={"limit": limit})
        if response.status_code != httpx.codes.OK:
            raise UnexpectedResponse(f"GET /campaigns/due answered {response.status_code}: {_error_code(response)}")
        listing = _parse(_DueListing, response)
        return [DueCampaign(item.id, item.name, item.scheduled_at) for item in listing.data]

    async def dispatch(self, campaign: DueCampaign) -> DispatchResult:
        """POST /campaigns/{id}/send with no body, so the stored audience is used, under the schedule's key."""
        path = f"/campaigns/{campaign.id}/send"
        response = await self._request("POST", path, headers={IDEMPOTENCY_HEADER: campaign.idempotency_key})
        status, code = response.status_code, _error_code(response)
        if status == httpx.codes.ACCEPTED and response.headers.get(REPLAYED_HEADER, "").lower() == "true":
            # another replica's send, answered again: counting it here would count the campaign twice
            return DispatchResult(DispatchOutcome.ALREADY_DISPATCHED)
        if status == httpx.codes.ACCEPTED:
            return DispatchResult(DispatchOutcome.DISPATCHED, _parse(_SendAnswer, response).messages_queued)
        if status == httpx.codes.CONFLICT and code == NOT_SENDABLE:
            return DispatchResult(DispatchOutcome.ALREADY_DISPATCHED)
        if status == httpx.codes.UNPROCESSABLE_ENTITY and code in NO_AUDIENCE:
            return DispatchResult(DispatchOutcome.AUDIENCE_REQUIRED)
        if status == httpx.codes.NOT_FOUND:
            return DispatchResult(DispatchOutcome.GONE)
        if status in (httpx.codes.BAD_REQUEST, httpx.codes.UNPROCESSABLE_ENTITY):
            # the campaign is bad, not the API down: campaign-api fails a due campaign it refuses, so it leaves the
            # due list instead of being offered on every tick
            return DispatchResult(DispatchOutcome.REJECTED)
        raise UnexpectedResponse(f"POST {path} answered {status}: {code}")

    async def check_health(self) -> None:
        """Readiness: campaign-api's /health answers 200."""
        response = await self.client.get("/health")
        response.raise_for_status()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # refused, reset, timed out: the next tick tries again
            raise CampaignApiUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.is_server_error:
            raise CampaignApiUnavailable(f"{method} {path} answered {response.status_code}: {_error_code(response)}")
        return response


def _error_code(response: httpx.Response) -> str:
    """The contract's {"error": {"code": ...}}, or a placeholder when the body is not that shape."""
    try:
        body = response.json()
    except ValueError:
        return "<no JSON body>"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", "<no code>"))
    return "<no error code>"


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise UnexpectedResponse(f"{response.request.url.path}: body outside the contract: {exc}") from exc

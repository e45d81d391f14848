"""A small, stateful HTTP server speaking the scheduling part of campaign-api's contract.

It stands in for campaign-api until its scheduling endpoints exist, and it can inject faults the real
service cannot be asked for (5xx, slow sends, malformed bodies). Sends are serialised per campaign, as
campaign-api's row lock does, so concurrent schedulers race exactly as they would against the real API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from service_kit.probe_server import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_DUE_LIMIT = 500


@dataclass
class StoredCampaign:
    """One campaign's state, as campaign-api would hold it."""

    id: int
    name: str
    scheduled_at: datetime
    status: str = "scheduled"
    audience_size: int | None = 3  # None: created without an audience
    dispatches: int = 0  # sends that moved it to sending (must never exceed 1)
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """What the server received, for assertions on headers and bodies."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


# the system key the contract server accepts (campaign-api answers 401 UNAUTHENTICATED to anything else)
CONTRACT_KEY = "cdk_contract-system-key-for-the-scheduler-tests"


@dataclass
class ContractCampaignApi:
    """The contract's state and its Starlette app."""

    campaigns: dict[int, StoredCampaign] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    send_delay_s: float = 0.01  # inside the per-campaign lock: widens the window two schedulers race in
    slow_send_ids: dict[int, float] = field(default_factory=dict)  # campaign id -> extra delay before answering
    send_started: asyncio.Event = field(default_factory=asyncio.Event)
    fail_with_status: int | None = None  # every scheduling endpoint answers this while set
    malformed_listing: bool = False
    # answer a repeated Idempotency-Key with the first 202, marked Idempotent-Replayed, before the state check
    replay_idempotent: bool = False
    _answers: dict[tuple[int, str], dict[str, object]] = field(default_factory=dict)
    _locks: defaultdict[int, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    def add(self, name: str, scheduled_at: datetime, *, audience_size: int | None = 3) -> int:
        """Store a scheduled campaign; return its id."""
        campaign_id = len(self.campaigns) + 1
        self.campaigns[campaign_id] = StoredCampaign(campaign_id, name, scheduled_at, audience_size=audience_size)
        return campaign_id

    def app(self) -> Starlette:
        """The HTTP face of this state."""
        return Starlette(
            routes=[
                Route("/health", self._health),
                Route("/campaigns/due", self._due, methods=["GET"]),
                Route("/campaigns/{campaign_id:int}/send", self._send, methods=["POST"]),
            ]
        )

    async def _record(self, request: Request) -> None:
        self.requests.append(
            SeenRequest(
                request.method, request.url.path, request.url.query, dict(request.headers), await request.body()
            )
        )

    async def _health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _due(self, request: Request) -> Response:
        await self._record(request)
        if not authorised(request):
            return unauthenticated()
        if self.fail_with_status is not None:
            return error(self.fail_with_status, "INTERNAL_ERROR", "injected failure")
        if self.malformed_listing:
            return JSONResponse({"data": [{"id": "not a number"}]})
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            return error(422, "VALIDATION_ERROR", "limit must be an integer")
        if not 1 <= limit <= MAX_DUE_LIMIT:
            return error(422, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_DUE_LIMIT}")
        now = datetime.now(UTC)
        due = sorted(
            (c for c in self.campaigns.values() if c.status == "scheduled" and c.scheduled_at <= now),
            key=lambda c: (c.scheduled_at, c.id),
        )[:limit]
        return JSONResponse(
            {
                "data": [
                    {"id": c.id, "name": c.name, "scheduled_at": c.scheduled_at.isoformat().replace("+00:00", "Z")}
                    for c in due
                ]
            }
        )

    async def _send(self, request: Request) -> Response:
        await self._record(request)
        if not authorised(request):
            return unauthenticated()
        self.send_started.set()
        if self.fail_with_status is not None:
            return error(self.fail_with_status, "INTERNAL_ERROR", "injected failure")
        campaign_id = int(request.path_params["campaign_id"])
        key = request.headers.get("idempotency-key", "")
        async with self._locks[campaign_id]:
            await asyncio.sleep(self.send_delay_s)
            if self.replay_idempotent and (campaign_id, key) in self._answers:
                replayed = self._answers[campaign_id, key]
                return JSONResponse(replayed, status_code=202, headers={"Idempotent-Replayed": "true"})
            campaign = self.campaigns.get(campaign_id)
            if campaign is None:
                return error(404, "CAMPAIGN_NOT_FOUND", f"Campaign {campaign_id} not found")
            if campaign.status not in {"draft", "scheduled"}:
                return error(409, "CAMPAIGN_NOT_SENDABLE", f"Campaign {campaign_id} is {campaign.status}")
            if campaign.audience_size is None:
                campaign.status = "failed"
                campaign.failure_reason = "no audience stored when the campaign fell due"
                return error(422, "AUDIENCE_REQUIRED", f"Campaign {campaign_id} has no audience")
            campaign.status = "sending"
            campaign.dispatches += 1
            body: dict[str, object] = {
                "campaign_id": campaign_id,
                "messages_queued": campaign.audience_size,
                "status": "sending",
            }
            self._answers[campaign_id, key] = body
        await asyncio.sleep(self.slow_send_ids.get(campaign_id, 0.0))
        return JSONResponse(body, status_code=202)


def authorised(request: Request) -> bool:
    """The request carries the system key, as campaign-api requires."""
    return request.headers.get("authorization") == f"Bearer {CONTRACT_KEY}"


def unauthenticated() -> JSONResponse:
    response = error(401, "UNAUTHENTICATED", "the API key is unknown or revoked")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def error(status: int, code: str, message: str) -> JSONResponse:
    """The contract's error shape."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@contextlib.asynccontextmanager
async def serve_app(app: Starlette) -> AsyncIterator[str]:
    """Serve the app on a free localhost port in this event loop; yield its base URL."""
    async with serve_asgi(app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"

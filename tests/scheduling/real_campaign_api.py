"""The real campaign-api as a CampaignServer: its app under uvicorn on a free localhost port, in this event loop.

It runs over the session's migrated database (test_kit's `database_url`) and a real template-svc
(the root conftest's `template_svc_addr`), without the outbox relay: the scenarios end at `sending`, which is
where the scheduler's responsibility ends too. Campaigns are created through POST /campaigns; one whose
scheduled_at lies in the past (or too close to create it in time) is created for tomorrow and moved back in the
database, as if it had fallen due while nobody polled.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.accounts import ACCOUNT_SCOPES, SYSTEM_SCOPES
from campaign_api.main import create_account, create_app, create_key
from campaign_api.settings import Settings
from prometheus_client import CollectorRegistry
from scheduler_tests.integration.server_under_test import CampaignServer
from service_kit.probe_server import serve_asgi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SEND_PATH = re.compile(r"/campaigns/(\d+)/send")
REPLAYED_HEADER = b"idempotent-replayed"
# closer than this to now, a campaign could fall due before POST /campaigns answers: it takes the database path
CREATE_MARGIN = timedelta(seconds=1)
AUDIENCE_SIZE = 3
_phones = itertools.count(1)


def next_phone() -> str:
    """A fresh Kenyan mobile number, in a range of its own so it never meets another suite's customers."""
    return f"+2547{30_000_000 + next(_phones):08d}"


@dataclass
class SendCounter:
    """ASGI middleware that counts, per campaign, the sends answered 202 and not replayed: the real dispatches."""

    app: ASGIApp
    dispatches: Counter[int] = field(default_factory=Counter)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = SEND_PATH.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        campaign_id = int(match[1])

        async def observe(message: Message) -> None:
            replayed = any(name.lower() == REPLAYED_HEADER for name, _ in message.get("headers", []))
            if message["type"] == "http.response.start" and message["status"] == 202 and not replayed:
                self.dispatches[campaign_id] += 1
            await send(message)

        await self.app(scope, receive, observe)


@contextlib.asynccontextmanager
async def serve_with_lifespan(app: ASGIApp) -> AsyncIterator[str]:
    """Serve the app (lifespan included) on a free localhost port in this event loop; yield its base URL."""
    async with serve_asgi(app, "127.0.0.1", 0, lifespan="on") as port:
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True, slots=True)
class RealServer:
    """CampaignServer over the real campaign-api, its database and the counted sends."""

    base_url: str
    # the scheduler's system key; `http` carries a key of the account the campaigns are created in
    api_key: str
    http: httpx.AsyncClient
    db: psycopg.AsyncConnection[tuple[Any, ...]]
    counter: SendCounter
    audience: tuple[int, ...]

    async def create_scheduled(self, name: str, scheduled_at: datetime, *, with_audience: bool = True) -> int:
        in_time = scheduled_at - datetime.now(UTC) > CREATE_MARGIN
        body: dict[str, Any] = {
            "name": name,
            "channel": "sms",
            "base_template": "Hi {first_name|there}, it is time!",
            "scheduled_at": (scheduled_at if in_time else datetime.now(UTC) + timedelta(days=1)).isoformat(),
        }
        if with_audience:
            body["audience"] = {"customer_ids": list(self.audience)}
        response = await self.http.post("/campaigns", json=body)
        assert response.status_code == 201, response.text
        campaign_id: int = response.json()["id"]
        if not in_time:
            await self.db.execute("UPDATE campaigns SET scheduled_at = %s WHERE id = %s", (scheduled_at, campaign_id))
        return campaign_id

    async def status(self, campaign_id: int) -> str:
        status: str = (await self.detail(campaign_id))["status"]
        return status

    async def dispatch_count(self, campaign_id: int) -> int:
        dispatches = self.counter.dispatches[campaign_id]
        # each dispatch created one message per audience member, and no send ever added more
        assert (await self.detail(campaign_id))["stats"]["total"] == AUDIENCE_SIZE * min(dispatches, 1)
        return dispatches

    async def failure_reason(self, campaign_id: int) -> str | None:
        reason: str | None = (await self.detail(campaign_id))["status_reason"]
        return reason

    async def detail(self, campaign_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/campaigns/{campaign_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def account_key_of_new_account(settings: Settings, name: str) -> str:
    """A new account (made as `campaign-api accounts create` does) and an all-scopes key of it."""
    account_id = await create_account(settings, f"{name}-{uuid.uuid4().hex[:8]}")
    return await create_key(settings, str(account_id), ACCOUNT_SCOPES, "tests")


@contextlib.asynccontextmanager
async def real_campaign_server(request: pytest.FixtureRequest) -> AsyncIterator[CampaignServer]:
    """The real campaign-api over this session's database and template-svc, with three customers to send to."""
    database_url: str = request.getfixturevalue("database_url")
    template_svc_addr: str = request.getfixturevalue("template_svc_addr")
    # no outbox relay: nothing here needs messages published
    settings = Settings(
        database_url=database_url,
        template_svc_addr=template_svc_addr,
        db_pool_max_size=8,
        relay_enabled=False,
        # the scenarios poll campaign state every few milliseconds with one key: no rate limit may interfere
        rate_limit_requests=1_000_000,
    )
    counter = SendCounter(create_app(settings, registry=CollectorRegistry()))
    system_key = await create_key(settings, None, SYSTEM_SCOPES, "scheduler")
    account_key = await account_key_of_new_account(settings, "scheduled")
    async with (
        serve_with_lifespan(counter) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10, headers=bearer(account_key)) as http,
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db,
    ):
        audience = []
        for _ in range(AUDIENCE_SIZE):
            created = await http.post("/customers", json={"phone": next_phone(), "first_name": "Scheduled"})
            assert created.status_code == 201, created.text
            audience.append(created.json()["id"])
        yield RealServer(base_url, system_key, http, db, counter, tuple(audience))

"""Per-key request and send rate limits (429 RATE_LIMITED with Retry-After) shared by replicas through PostgreSQL,
and the per-account recipient quota over a rolling 24 hours (429 RECIPIENT_QUOTA_EXCEEDED, nothing queued)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
from campaign_api.main import create_app
from campaign_api.settings import Settings
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer, new_account

# a window this long never rolls over during a test: the counts below are exact
LONG_WINDOW_S = 10**8


@contextlib.asynccontextmanager
async def replica(settings: Settings, key: str, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    """One more campaign-api process (its own app and pools) with the given limits, and a client with the key."""
    app: FastAPI = create_app(
        settings.model_copy(update={"rate_limit_window_s": LONG_WINDOW_S, **limits}), registry=CollectorRegistry()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as http:
            yield http


def assert_rate_limited(response: httpx.Response) -> None:
    assert_error(response, 429, "RATE_LIMITED")
    assert int(response.headers["retry-after"]) >= 1


async def test_a_key_past_its_request_limit_is_429_on_every_replica_and_other_keys_are_not(settings: Settings) -> None:
    limited, other = await new_account(settings, "limited"), await new_account(settings, "unlimited")
    async with (
        replica(settings, limited.key, rate_limit_requests=5) as first,
        replica(settings, limited.key, rate_limit_requests=5) as second,
        replica(settings, other.key, rate_limit_requests=5) as bystander,
    ):
        answers = [await (first if i % 2 else second).get("/customers") for i in range(5)]
        assert [r.status_code for r in answers] == [200] * 5
        # the sixth request of the key is refused whichever replica takes it: the count lives in PostgreSQL
        assert_rate_limited(await first.get("/campaigns"))
        assert_rate_limited(await second.get("/customers"))
        assert (await bystander.get("/customers")).status_code == 200
        # the probes take no key and count nothing
        assert (await first.get("/health")).status_code == 200


async def test_sends_have_a_stricter_limit_of_their_own(settings: Settings) -> None:
    account = await new_account(settings, "sender")
    async with replica(settings, account.key, rate_limit_requests=100, rate_limit_sends=2) as http:
        customer = await create_customer(http)
        campaigns = [await create_campaign(http) for _ in range(3)]
        for campaign in campaigns[:2]:
            sent = await http.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})
            assert sent.status_code == 202, sent.text
        refused = await http.post(f"/campaigns/{campaigns[2]['id']}/send", json={"customer_ids": [customer["id"]]})
        assert_rate_limited(refused)
        assert "sends" in refused.json()["error"]["message"]
        # the other requests still have room
        assert (await http.get(f"/campaigns/{campaigns[2]['id']}")).json()["status"] == "draft"


async def test_the_recipient_quota_refuses_a_send_that_would_pass_it_and_queues_nothing(
    settings: Settings, app: FastAPI, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    account: KeyedAccount = await new_account(settings, "quota")
    await db.execute("UPDATE accounts SET recipients_per_day = 3 WHERE id = %s", (account.id,))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=account.headers) as http:
        ids = [(await create_customer(http))["id"] for _ in range(4)]
        first = await create_campaign(http)
        sent = await http.post(f"/campaigns/{first['id']}/send", json={"customer_ids": ids[:2]})
        assert sent.status_code == 202, sent.text

        second = await create_campaign(http)
        refused = await http.post(f"/campaigns/{second['id']}/send", json={"customer_ids": ids[2:]})
        message = assert_error(refused, 429, "RECIPIENT_QUOTA_EXCEEDED")
        assert "2 of its 3" in message
        assert int(refused.headers["retry-after"]) > 0
        detail = (await http.get(f"/campaigns/{second['id']}")).json()
        assert detail["status"] == "draft" and detail["stats"]["total"] == 0

        # one more recipient still fits
        assert (await http.post(f"/campaigns/{second['id']}/send", json={"customer_ids": ids[2:3]})).status_code == 202

"""Scenarios only the real campaign-api can play: audiences resolved by its database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from campaign_api.settings import Settings
from real_campaign_api import (
    RealServer,
    account_key_of_new_account,
    bearer,
    next_phone,
    real_campaign_server,
)
from scheduler_tests.integration.test_scheduling import POLL_INTERVAL_S, eventually, metric, running_scheduler

ERROR_KINDS = ("unavailable", "unexpected_response", "audience_required", "rejected", "internal")


async def test_a_due_campaign_whose_segment_matches_nobody_fails_once_and_is_not_offered_again(
    request: pytest.FixtureRequest,
) -> None:
    async with real_campaign_server(request) as server:
        assert isinstance(server, RealServer)
        campaign_id = await create_due(server, "nobody in Atlantis", {"segment": {"location": "Atlantis"}})

        async with running_scheduler(server.base_url, server.api_key) as registry:
            await eventually(lambda: _failed(server, campaign_id), what="failing the campaign with an empty audience")
            await asyncio.sleep(5 * POLL_INTERVAL_S)  # later ticks do not see it any more

        assert await server.dispatch_count(campaign_id) == 0
        assert await server.failure_reason(campaign_id) == (
            "the stored audience matched no customer when the scheduled campaign fell due"
        )
        assert sum(metric(registry, "scheduler_errors_total", kind=kind) for kind in ERROR_KINDS) == 1
        assert metric(registry, "scheduler_errors_total", kind="audience_required") == 1
        assert metric(registry, "scheduler_campaigns_dispatched_total") == 0


async def test_a_due_campaign_the_api_refuses_is_failed_once_not_retried_every_tick(
    request: pytest.FixtureRequest,
) -> None:
    async with real_campaign_server(request) as server:
        assert isinstance(server, RealServer)
        campaign_id = await create_due(server, "poison", {"customer_ids": [server.audience[0], 987654321]})

        async with running_scheduler(server.base_url, server.api_key) as registry:
            await eventually(lambda: _failed(server, campaign_id), what="failing the campaign the API refuses")
            await asyncio.sleep(5 * POLL_INTERVAL_S)  # later ticks do not see it any more

        assert await server.dispatch_count(campaign_id) == 0
        reason = await server.failure_reason(campaign_id)
        assert reason is not None and "987654321" in reason
        assert metric(registry, "scheduler_errors_total", kind="rejected") == 1
        assert metric(registry, "scheduler_errors_total", kind="unavailable") == 0
        assert metric(registry, "scheduler_errors_total", kind="unexpected_response") == 0


async def create_due(server: RealServer, name: str, audience: dict[str, Any]) -> int:
    """A scheduled campaign with this stored audience whose time has just come."""
    created = await server.http.post(
        "/campaigns",
        json={
            "name": name,
            "channel": "sms",
            "base_template": "Hi {first_name|there}!",
            "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "audience": audience,
        },
    )
    campaign_id: int = created.json()["id"]
    await server.db.execute(
        "UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (campaign_id,)
    )
    return campaign_id


async def _failed(server: RealServer, campaign_id: int) -> bool:
    return await server.status(campaign_id) == "failed"


async def test_the_system_key_dispatches_the_due_campaigns_of_two_accounts(request: pytest.FixtureRequest) -> None:
    async with real_campaign_server(request) as server:
        assert isinstance(server, RealServer)
        settings = Settings(database_url=request.getfixturevalue("database_url"))
        other_key = await account_key_of_new_account(settings, "second-business")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10, headers=bearer(other_key)) as other:
            customer = await other.post("/customers", json={"phone": next_phone(), "first_name": "Other"})
            assert customer.status_code == 201, customer.text
            theirs = await other.post(
                "/campaigns",
                json={
                    "name": "the other business's",
                    "channel": "sms",
                    "base_template": "Hi {first_name|there}!",
                    "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                    "audience": {"customer_ids": [customer.json()["id"]]},
                },
            )
            assert theirs.status_code == 201, theirs.text
            mine = await server.create_scheduled("the first business's", datetime.now(UTC) - timedelta(seconds=1))
            await server.db.execute(
                "UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = %s", (theirs.json()["id"],)
            )

            async def both_sending() -> bool:
                detail = await other.get(f"/campaigns/{theirs.json()['id']}")
                return detail.json()["status"] == "sending" and await server.status(mine) == "sending"

            async with running_scheduler(server.base_url, server.api_key):
                await eventually(both_sending, what="dispatching the due campaigns of both accounts")
            # each account still sees only its own campaign
            assert (await other.get(f"/campaigns/{mine}")).status_code == 404
            assert (await server.http.get(f"/campaigns/{theirs.json()['id']}")).status_code == 404

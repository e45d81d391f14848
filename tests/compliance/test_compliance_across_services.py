"""What a new user sees, from a clean database: a number suppressed by texting STOP is skipped by a send, and with
the Kenyan preset a promotional campaign sent in the evening waits until 08:00 EAT, which its detail says, then goes.

The API runs in process (relay off); the worker's real Deliver use case takes the published jobs with a pinned clock.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_account, create_app, create_key
from campaign_api.settings import Settings
from dispatch.codec import encode_job
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.usecases.compliance_gate import ComplianceGate
from dispatch_worker.usecases.deliver import Deliver
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue, ScriptedSender
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

NAIROBI = ZoneInfo("Africa/Nairobi")


@dataclass
class PinnedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def next_evening(after: datetime) -> datetime:
    """The first 19:00 EAT after `after`: an evening within the next day, whatever time the test runs."""
    local = after.astimezone(NAIROBI)
    evening = local.replace(hour=19, minute=0, second=0, microsecond=0)
    return evening if evening > local else evening + timedelta(days=1)


@pytest.fixture
async def client(database_url: str, template_svc_addr: str) -> AsyncIterator[httpx.AsyncClient]:
    """A new account's all-scopes client of the real app."""
    settings = Settings(database_url=database_url, template_svc_addr=template_svc_addr, relay_enabled=False)
    app = create_app(settings, registry=CollectorRegistry())
    account = await create_account(settings, f"kenya-{uuid.uuid4().hex[:8]}")
    key = await create_key(settings, str(account), ACCOUNT_SCOPES, "tests")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as http:
            yield http


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_an_evening_send_with_the_kenyan_preset_waits_until_eight_and_skips_who_texted_stop(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ok(await client.put("/account/compliance", json={"send_window": {"preset": "ke-safaricom"}}))
    stays = await ok(await client.post("/customers", json={"phone": "0712 000 101", "first_name": "Amina"}), 201)
    leaves = await ok(await client.post("/customers", json={"phone": "0712 000 102", "first_name": "Baraka"}), 201)
    stop = await ok(
        await client.post("/inbound-messages", json={"channel": "sms", "phone": "0712000102", "body": "Stop"}), 201
    )
    assert stop["opt_out"] == "stop"

    body = {"name": "Evening offer", "channel": "sms", "base_template": "Hi {first_name}", "validity_hours": 48}
    campaign = await ok(await client.post("/campaigns", json=body), 201)
    sent = await ok(
        await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [stays["id"], leaves["id"]]}),
        202,
    )
    assert (sent["messages_queued"], sent["suppressed"]) == (1, 1)

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT id FROM outbound_messages WHERE campaign_id = %s", (campaign["id"],))
        message_ids = [row[0] for row in await cur.fetchall()]
    evening = next_evening(datetime.now(UTC))
    clock = PinnedClock(evening)
    queue, sender = InMemoryJobQueue(), ScriptedSender()
    async with AsyncConnectionPool(database_url, min_size=1, max_size=2, open=False) as pool:
        deliver = Deliver(
            pool,
            queue,
            FakeRenderer(),
            sender,
            RetryPolicy((5.0, 30.0, 120.0)),
            WorkerMetrics.register(CollectorRegistry()),
            gate=ComplianceGate(clock),
        )
        for message_id in message_ids:
            queue.put(encode_job(message_id))
        await deliver(await queue.receive(64, 0))

        detail = await ok(await client.get(f"/campaigns/{campaign['id']}"))
        morning = (evening + timedelta(days=1)).replace(hour=8)
        assert detail["waiting"]["count"] == 1
        assert datetime.fromisoformat(detail["waiting"]["until"]) == morning
        assert (detail["status"], detail["stats"]["pending"], detail["stats"]["sent"]) == ("sending", 1, 0)
        assert not sender.sent and not queue.retries and not queue.dead

        clock.now = morning  # the relay publishes the message again at 08:00 EAT
        for message_id in message_ids:
            queue.put(encode_job(message_id))
        await deliver(await queue.receive(64, 0))

    assert [m.phone for m in sender.sent] == [stays["phone"]]
    done = await ok(await client.get(f"/campaigns/{campaign['id']}"))
    assert (done["status"], done["stats"]["sent"], done["waiting"]["count"]) == ("sent", 1, 0)


async def test_a_sender_window_narrows_the_kenyan_preset_and_removing_it_lets_the_message_go_at_eight(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await ok(await client.put("/account/compliance", json={"send_window": {"preset": "ke-safaricom"}}))
    mornings = {"start": "09:00", "end": "11:00", "time_zone": "Africa/Nairobi"}
    body = {"name": "mornings", "channel": "sms", "provider": "mock", "address": "ACME", "is_default": True}
    sender = await ok(await client.post("/senders", json={**body, "send_window": mornings}), 201)
    customer = await ok(await client.post("/customers", json={"phone": "0712 000 201", "first_name": "Chep"}), 201)
    body = {"name": "Morning offer", "channel": "sms", "base_template": "Hi {first_name}", "validity_hours": 48}
    campaign = await ok(await client.post("/campaigns", json=body), 201)
    await ok(await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]}), 202)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT id FROM outbound_messages WHERE campaign_id = %s", (campaign["id"],))
        message_ids = [row[0] for row in await cur.fetchall()]

    evening = next_evening(datetime.now(UTC))
    clock = PinnedClock(evening)
    queue, scripted = InMemoryJobQueue(), ScriptedSender()
    async with AsyncConnectionPool(database_url, min_size=1, max_size=2, open=False) as pool:
        deliver = Deliver(
            pool,
            queue,
            FakeRenderer(),
            scripted,
            RetryPolicy((5.0, 30.0, 120.0)),
            WorkerMetrics.register(CollectorRegistry()),
            gate=ComplianceGate(clock),
        )

        async def attempt() -> dict[str, Any]:
            for message_id in message_ids:
                queue.put(encode_job(message_id))
            await deliver(await queue.receive(64, 0))
            detail: dict[str, Any] = await ok(await client.get(f"/campaigns/{campaign['id']}"))
            return detail

        next_day = evening + timedelta(days=1)
        # the account's window opens at 08:00, the default sender's at 09:00: the message waits for both
        detail = await attempt()
        assert detail["waiting"]["count"] == 1
        assert datetime.fromisoformat(detail["waiting"]["until"]) == next_day.replace(hour=9)

        # without the sender's window the message is judged again at once: the account's alone, open at 08:00
        patched = await ok(await client.patch(f"/senders/{sender['id']}", json={"send_window": None}))
        assert patched["send_window"] is None
        assert (await ok(await client.get(f"/campaigns/{campaign['id']}")))["waiting"]["count"] == 0
        detail = await attempt()
        assert datetime.fromisoformat(detail["waiting"]["until"]) == next_day.replace(hour=8)

        clock.now = next_day.replace(hour=8)
        detail = await attempt()

    assert [m.phone for m in scripted.sent] == [customer["phone"]]
    assert (detail["status"], detail["stats"]["sent"], detail["waiting"]["count"]) == ("sent", 1, 0)
    assert not queue.retries and not queue.dead

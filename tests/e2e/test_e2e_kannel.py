"""Through real Kannel: campaign-api, dispatch-worker (SENDER=kannel), bearerbox + smsbox + fakesmsc. The SMSC
simulator takes every message, bearerbox's fake SMSC reports them delivered, smsbox calls the Kannel sender's
dlr-url on campaign-api, and the campaign's stats count them delivered: the receipts are real."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from campaign_api.accounts import ACCOUNT_SCOPES, SYSTEM_SCOPES
from campaign_api.channels import NewSender, Provider, callback_urls
from campaign_api.main import create_account, create_key, ensure_sender
from campaign_api.settings import Settings
from dispatch.lifecycle import Channel
from dispatch_worker_tests.kannel_gateway import PASSWORD, USERNAME, KannelGateway, run_kannel
from stack import Stack, running_stack, service_specs
from test_kit.pytest_plugin import ApplySchema, throwaway_database

RETRY_DELAYS_S = (0.5, 1.0, 2.0)
RECIPIENTS = 5
# every report Kannel has: delivered, undelivered, queued on the SMSC, accepted by it, rejected by it
DLR_MASK = "31"


@dataclasses.dataclass(frozen=True)
class KannelStack:
    platform: Stack
    kannel: KannelGateway


@pytest.fixture(scope="module")
def kannel_database_url(apply_schema: ApplySchema) -> Iterator[str]:
    """A database of its own: this stack's relay must not publish the other e2e stack's outbox (nor its worker send
    those messages through Kannel)."""
    with throwaway_database(apply_schema) as url:
        yield url


@pytest.fixture(scope="module")
async def kannel_stack(
    kannel_database_url: str, amqp_url: str, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[KannelStack]:
    """The platform with the worker sending through a real Kannel, and the account's Kannel sender whose dlr-url
    the worker hands Kannel with each message. It exports no spans (the observability tests count theirs)."""
    database_url = kannel_database_url
    run_id = uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    settings = Settings(database_url=database_url)
    account_id = await create_account(settings, f"e2e-kannel-{run_id}")
    api_key = await create_key(settings, str(account_id), ACCOUNT_SCOPES, "e2e kannel")
    system_key = await create_key(settings, None, SYSTEM_SCOPES, "e2e kannel scheduler")
    sender = await ensure_sender(
        settings,
        str(account_id),
        NewSender(
            name="Kannel e2e",
            channel=Channel.SMS,
            provider=Provider.KANNEL,
            address="CAMPAIGN",
            is_default=True,
            credentials_ref="KANNEL_CREDENTIALS",
        ),
    )
    specs, api_url, grpc_address = service_specs(
        database_url, amqp_url, "", f"e2e_kannel_{run_id}", RETRY_DELAYS_S, system_key
    )
    with run_kannel(tmp_path_factory.mktemp("kannel")) as gateway:
        worker_env = {
            "SENDER": "kannel",
            "KANNEL_URL": gateway.sendsms_url,
            "KANNEL_USERNAME": USERNAME,
            "KANNEL_PASSWORD": PASSWORD,
            "KANNEL_FROM": sender.address,
            "KANNEL_DLR_MASK": DLR_MASK,
            "KANNEL_DLR_URL": callback_urls(api_url, sender)["delivery_receipts"],
            # the sender row's credentials_ref names this variable; the worker builds its dlr-url from the base
            "KANNEL_CREDENTIALS": f"{USERNAME}:{PASSWORD}",
            "CALLBACK_BASE_URL": api_url,
        }
        specs = [
            dataclasses.replace(spec, env={**spec.env, **worker_env}) if spec.name == "dispatch-worker" else spec
            for spec in specs
        ]
        running = Stack({}, api_url, grpc_address, f"e2e_kannel_{run_id}", RETRY_DELAYS_S, api_key, system_key)
        workdir = tmp_path_factory.mktemp("e2e-kannel-logs")
        async with running_stack(running, specs, workdir, repo_root, amqp_url) as ready:
            yield KannelStack(ready, gateway)


async def poll_stats(client: httpx.AsyncClient, campaign_id: int, until: str, count: int) -> dict[str, Any]:
    """The campaign's stats once `until` reaches `count` (generous bound: the machine is shared)."""
    stats: dict[str, Any] = {}
    for _ in range(600):
        stats = (await client.get(f"/campaigns/{campaign_id}")).json()["stats"]
        if stats[until] >= count:
            return stats
        await asyncio.sleep(0.1)
    return stats


async def test_a_campaign_through_real_kannel_counts_delivered_from_real_receipts(kannel_stack: KannelStack) -> None:
    platform, kannel = kannel_stack.platform, kannel_stack.kannel
    async with httpx.AsyncClient(base_url=platform.api_url, headers=platform.api_headers, timeout=10) as api:
        customers = []
        for i in range(RECIPIENTS):
            created = await api.post("/customers", json={"phone": f"+2547{22_000_000 + i:08d}", "first_name": f"K{i}"})
            assert created.status_code == 201, created.text
            customers.append(created.json()["id"])
        campaign = await api.post(
            "/campaigns", json={"name": "Through Kannel", "channel": "sms", "base_template": "Hi {first_name}!"}
        )
        assert campaign.status_code == 201, campaign.text
        campaign_id = campaign.json()["id"]
        send = await api.post(f"/campaigns/{campaign_id}/send", json={"customer_ids": customers})
        assert send.status_code == 202, send.text

        stats = await poll_stats(api, campaign_id, "delivered", RECIPIENTS)

        logs = "\n".join(platform.services[name].tail(1500) for name in ("campaign-api", "dispatch-worker"))
        assert stats["sent"] == RECIPIENTS, f"{stats}\n{kannel.logs()}\n{logs}"
        assert stats["delivered"] == RECIPIENTS, f"{stats}\n{kannel.logs()}\n{logs}"
        assert stats["undelivered"] == 0
        # the SMSC simulator received each message, from the sender's id
        received = kannel.wait_received(RECIPIENTS)
        assert len([line for line in received if line.startswith("CAMPAIGN ")]) >= RECIPIENTS, received
        metrics = (await api.get("/metrics")).text
        assert 'delivery_receipts_total{outcome="applied",provider="kannel",status="delivered"}' in metrics

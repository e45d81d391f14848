"""Errors everywhere in one shape, dependencies down, probes, metrics, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from campaign_api.main import create_app
from campaign_api.settings import Settings
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer
from campaign_api_tests.fakes import BrokenRenderer

# nothing listens on port 1: connections are refused at once
CLOSED_PORT_DB = "postgresql://postgres@127.0.0.1:1/nothing"
CLOSED_PORT_GRPC = "127.0.0.1:1"

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def running(
    app: FastAPI, key: str = "cdk_some-key-checked-against-the-database"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client over an app whose lifespan runs for the block, sending the key (by default one no account has)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # checking a key needs the database: without it the answer is 503, not 401
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as client:
            yield client


def variant(settings: Settings, **changes: Any) -> Settings:
    """The session's settings with some values changed."""
    return Settings(**{**settings.model_dump(), **changes})


async def test_unknown_route_is_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/no/such/route"), 404, "NOT_FOUND")


async def test_wrong_method_is_405_in_the_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/campaigns"), 405, "METHOD_NOT_ALLOWED")
    assert_error(await client.put("/customers/1"), 405, "METHOD_NOT_ALLOWED")


async def test_body_over_the_limit_is_413_before_parsing(client: httpx.AsyncClient, settings: Settings) -> None:
    huge = b'{"customer_ids": [' + b"1," * settings.max_body_bytes + b"1]}"
    response = await client.post("/campaigns/1/send", content=huge, headers={"content-type": "application/json"})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient, settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    response = await client.post("/customers", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_database_down_answers_503_quickly(settings: Settings) -> None:
    app = create_app(
        variant(settings, database_url=CLOSED_PORT_DB, db_pool_timeout_s=0.5), registry=CollectorRegistry()
    )
    async with running(app) as client:
        for response in (
            await client.get("/campaigns"),
            await client.get("/campaigns/1"),
            await client.get("/customers/1"),
            await client.post("/customers", json={"phone": "0712345678"}),
            await client.post("/campaigns/1/send", json={"customer_ids": [1]}),
        ):
            assert_error(response, 503, "DATABASE_UNAVAILABLE")
        ready = await client.get("/ready")
        assert (await client.get("/health")).status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("down")


async def test_template_service_down_answers_503(settings: Settings, account: KeyedAccount) -> None:
    app = create_app(variant(settings, template_svc_addr=CLOSED_PORT_GRPC), registry=CollectorRegistry())
    async with running(app, account.key) as client:
        customer = await create_customer(client)
        create = await client.post("/campaigns", json={"name": "n", "channel": "sms", "base_template": "Hi"})
        campaign = (await client.get("/campaigns", params={"page_size": 1})).json()["data"][0]
        preview = await client.post(
            f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": customer["id"]}
        )
        ready = await client.get("/ready")
    assert_error(create, 503, "TEMPLATE_SERVICE_UNAVAILABLE")
    assert "template-svc" in assert_error(preview, 503, "TEMPLATE_SERVICE_UNAVAILABLE")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "template-svc": ready.json()["checks"]["template-svc"]}
    assert ready.json()["checks"]["template-svc"].startswith("down")


async def test_unexpected_exception_is_500_without_a_stack_trace(settings: Settings, account: KeyedAccount) -> None:
    app = create_app(settings, renderer=BrokenRenderer(), registry=CollectorRegistry())
    async with running(app, account.key) as client:
        campaign = await create_campaign(client)
        customer = await create_customer(client)
        response = await client.post(
            f"/campaigns/{campaign['id']}/personalized-preview", json={"customer_id": customer["id"]}
        )
    message = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in message and "Traceback" not in response.text


async def test_ready_reports_every_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "template-svc": "ok"}}
    assert (await client.get("/health")).json() == {"status": "ok"}


async def test_metrics_count_requests_by_route_template_and_campaigns_by_channel(client: httpx.AsyncClient) -> None:
    campaign = await create_campaign(client, channel="whatsapp")
    await client.get(f"/campaigns/{campaign['id']}")
    await client.get("/definitely/unknown")

    text = (await client.get("/metrics")).text

    assert (
        'http_server_request_duration_seconds_count{method="GET",route="/campaigns/{campaign_id}",status_code="200"}'
        in text
    )
    assert 'route="<unmatched>"' in text
    assert 'campaigns_created_total{channel="whatsapp"}' in text
    assert "campaigns_dispatched_total" in text


async def test_dispatched_counter_moves_on_send_but_not_on_replay(app: FastAPI, client: httpx.AsyncClient) -> None:
    counter = app.state.metrics.campaigns_dispatched.labels(channel="sms")
    before = counter._value.get()
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    headers = {"Idempotency-Key": "metrics"}
    for _ in range(2):
        await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]}, headers=headers)
    assert counter._value.get() == before + 1


async def test_openapi_declares_models_examples_and_error_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    send = spec["paths"]["/campaigns/{campaign_id}/send"]["post"]
    assert set(send["responses"]) >= {"202", "404", "409", "413", "422", "503"}
    assert send["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "examples" in spec["components"]["schemas"]["CreateCampaignRequest"]
    assert "/campaigns/{campaign_id}/personalized-preview" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200

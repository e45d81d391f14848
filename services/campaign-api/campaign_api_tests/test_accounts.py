"""Accounts and API keys: every route refuses a missing, unknown, revoked or under-scoped key in the error shape, an
account never sees another's rows (the API answers 404, and row-level security hides them even from a query that
forgets its WHERE), keys are managed through the API, and the scheduler's system key is held to due campaigns."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import psycopg
import pytest
from campaign_api.accounts import SYSTEM_SCOPES, Scope
from campaign_api.main import create_key
from campaign_api.settings import Settings
from fastapi import FastAPI

from campaign_api_tests.factories import (
    KeyedAccount,
    assert_error,
    create_campaign,
    create_customer,
    new_account,
    next_phone,
)

# reachable by probes, Prometheus and a browser without a key
OPEN_PATHS: Final = frozenset(
    {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
# providers' callbacks carry their own credential (a callback token, Meta's signature): test_provider_callbacks.py
PROVIDER_CALLBACKS: Final = "/providers/"
# every route of the app and the scopes that let a key through (any one of them): a new route must be listed here
SCOPES: Final[dict[tuple[str, str], frozenset[Scope]]] = {
    ("POST", "/campaigns"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("GET", "/campaigns"): frozenset({Scope.CAMPAIGNS_READ}),
    ("GET", "/campaigns/due"): frozenset({Scope.CAMPAIGNS_READ, Scope.CAMPAIGNS_SCHEDULE}),
    ("GET", "/campaigns/{campaign_id}"): frozenset({Scope.CAMPAIGNS_READ}),
    ("PATCH", "/campaigns/{campaign_id}"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("POST", "/campaigns/{campaign_id}/cancel"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("POST", "/campaigns/{campaign_id}/send"): frozenset({Scope.CAMPAIGNS_SEND, Scope.CAMPAIGNS_SCHEDULE}),
    ("POST", "/campaigns/{campaign_id}/personalized-preview"): frozenset({Scope.CAMPAIGNS_READ}),
    ("POST", "/customers"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("GET", "/customers"): frozenset({Scope.CUSTOMERS_READ}),
    ("GET", "/customers/{customer_id}"): frozenset({Scope.CUSTOMERS_READ}),
    ("POST", "/api-keys"): frozenset({Scope.KEYS_ADMIN}),
    ("GET", "/api-keys"): frozenset({Scope.KEYS_ADMIN}),
    ("DELETE", "/api-keys/{key_id}"): frozenset({Scope.KEYS_ADMIN}),
    ("GET", "/audit-events"): frozenset({Scope.AUDIT_READ}),
    ("POST", "/senders"): frozenset({Scope.SENDERS_WRITE}),
    ("GET", "/senders"): frozenset({Scope.SENDERS_READ}),
    ("GET", "/senders/{sender_id}"): frozenset({Scope.SENDERS_READ}),
    ("PATCH", "/senders/{sender_id}"): frozenset({Scope.SENDERS_WRITE}),
    ("DELETE", "/senders/{sender_id}"): frozenset({Scope.SENDERS_WRITE}),
    # compliance (issue 15)
    ("POST", "/suppressions"): frozenset({Scope.SUPPRESSIONS_WRITE}),
    ("GET", "/suppressions"): frozenset({Scope.SUPPRESSIONS_READ}),
    ("DELETE", "/suppressions/{suppression_id}"): frozenset({Scope.SUPPRESSIONS_WRITE}),
    ("GET", "/account/compliance"): frozenset({Scope.COMPLIANCE_ADMIN}),
    ("PUT", "/account/compliance"): frozenset({Scope.COMPLIANCE_ADMIN}),
    ("POST", "/inbound-messages"): frozenset({Scope.INBOUND_WRITE}),
    ("GET", "/inbound-messages"): frozenset({Scope.INBOUND_READ}),
    # contacts
    ("POST", "/customers/imports"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("GET", "/customers/imports/{import_id}"): frozenset({Scope.CUSTOMERS_READ}),
    ("GET", "/customers/export"): frozenset({Scope.CUSTOMERS_READ}),
    ("PATCH", "/customers/{customer_id}"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("DELETE", "/customers/{customer_id}"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("POST", "/customer-attributes"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("GET", "/customer-attributes"): frozenset({Scope.CUSTOMERS_READ}),
    ("POST", "/segments"): frozenset({Scope.CUSTOMERS_WRITE}),
    ("GET", "/segments"): frozenset({Scope.CUSTOMERS_READ}),
    ("GET", "/segments/{segment_id}/count"): frozenset({Scope.CUSTOMERS_READ}),
    # operator controls
    ("POST", "/campaigns/{campaign_id}/pause"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("POST", "/campaigns/{campaign_id}/resume"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("POST", "/campaigns/{campaign_id}/retry-failed"): frozenset({Scope.CAMPAIGNS_SEND}),
    ("PUT", "/campaigns/{campaign_id}/pace"): frozenset({Scope.CAMPAIGNS_WRITE}),
    ("GET", "/campaigns/{campaign_id}/pace"): frozenset({Scope.CAMPAIGNS_READ}),
    ("GET", "/dead-letters"): frozenset({Scope.CAMPAIGNS_READ}),
    ("POST", "/dead-letters/replay"): frozenset({Scope.CAMPAIGNS_SEND}),
}
ROUTES: Final = sorted(SCOPES)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every operation the app's OpenAPI document declares, but the open ones."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in OPEN_PATHS and not path.startswith(PROVIDER_CALLBACKS)
        for method in operations
    }


def concrete(path: str) -> str:
    return (
        path.replace("{campaign_id}", "1")
        .replace("{customer_id}", "1")
        .replace("{key_id}", "1")
        .replace("{sender_id}", "1")
        .replace("{suppression_id}", "1")
        .replace("{import_id}", "1")
        .replace("{segment_id}", "1")
    )


@contextlib.asynccontextmanager
async def client_with(app: FastAPI, key: str | None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the session's app sending `key` (or no Authorization header at all)."""
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=headers) as http:
        yield http


async def call(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    return await client.request(method, concrete(path))


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


def test_every_route_is_listed_with_its_scopes(app: FastAPI) -> None:
    assert app_routes(app) == set(SCOPES), "a route without a declared scope: add it to SCOPES (and docs/api.md)"


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_no_key_is_401(app: FastAPI, method: str, path: str) -> None:
    async with client_with(app, None) as anonymous:
        assert_unauthenticated(await call(anonymous, method, path))


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_unknown_key_and_other_schemes_are_401(app: FastAPI, method: str, path: str) -> None:
    async with client_with(app, "cdk_" + "x" * 43) as unknown:
        assert_unauthenticated(await call(unknown, method, path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api") as http:
        response = await http.request(method, concrete(path), headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert_unauthenticated(response)


@pytest.fixture(scope="module")
async def revoked_key(client: httpx.AsyncClient) -> str:
    """A key of the session's account, revoked through the API."""
    created = await client.post("/api-keys", json={"name": "to revoke", "scopes": ["campaigns:read"]})
    assert created.status_code == 201, created.text
    revoked = await client.delete(f"/api-keys/{created.json()['id']}")
    assert revoked.status_code == 200, revoked.text
    key: str = created.json()["key"]
    return key


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_revoked_key_is_401(app: FastAPI, revoked_key: str, method: str, path: str) -> None:
    async with client_with(app, revoked_key) as revoked:
        assert_unauthenticated(await call(revoked, method, path))


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_a_key_without_the_scope_is_403(app: FastAPI, settings: Settings, method: str, path: str) -> None:
    needed = SCOPES[method, path]
    other_scopes = frozenset(Scope) - needed - SYSTEM_SCOPES
    key = await create_key(settings, str((await new_account(settings, "scoped")).id), other_scopes, "tests")
    async with client_with(app, key) as scoped:
        message = assert_error(await call(scoped, method, path), 403, "FORBIDDEN")
    assert all(scope.value in message for scope in needed), message


@pytest.fixture(scope="module")
async def theirs(client: httpx.AsyncClient, account: KeyedAccount) -> dict[str, Any]:
    """Rows of the session's account that the other account must never reach."""
    customer = await create_customer(client, location="Nairobi")
    campaign = await create_campaign(
        client,
        audience={"customer_ids": [customer["id"]]},
        scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    keys = (await client.get("/api-keys")).json()["data"]
    return {"customer": customer["id"], "campaign": campaign["id"], "key": keys[0]["id"]}


@pytest.fixture
async def other(app: FastAPI, other_account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with(app, other_account.key) as http:
        yield http


async def test_another_accounts_ids_are_404_as_if_they_did_not_exist(
    other: httpx.AsyncClient, theirs: dict[str, Any]
) -> None:
    campaign, customer = theirs["campaign"], theirs["customer"]
    assert_error(await other.get(f"/campaigns/{campaign}"), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await other.patch(f"/campaigns/{campaign}", json={"name": "mine"}), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await other.post(f"/campaigns/{campaign}/cancel"), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await other.post(f"/campaigns/{campaign}/send"), 404, "CAMPAIGN_NOT_FOUND")
    preview = await other.post(f"/campaigns/{campaign}/personalized-preview", json={"customer_id": customer})
    assert_error(preview, 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await other.get(f"/customers/{customer}"), 404, "CUSTOMER_NOT_FOUND")
    assert_error(await other.delete(f"/api-keys/{theirs['key']}"), 404, "API_KEY_NOT_FOUND")


async def test_an_account_cannot_send_to_or_preview_another_accounts_customers(
    other: httpx.AsyncClient, theirs: dict[str, Any], db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    mine = await create_campaign(other)
    sent = await other.post(f"/campaigns/{mine['id']}/send", json={"customer_ids": [theirs["customer"]]})
    assert_error(sent, 422, "UNKNOWN_CUSTOMERS")
    preview = await other.post(
        f"/campaigns/{mine['id']}/personalized-preview", json={"customer_id": theirs["customer"]}
    )
    assert_error(preview, 404, "CUSTOMER_NOT_FOUND")
    # a segment of everybody is everybody of this account: the other account's customer is not among them
    segment = await other.post(f"/campaigns/{mine['id']}/send", json=None, headers={"content-type": "application/json"})
    assert segment.status_code in (202, 422), segment.text
    row = await (
        await db.execute("SELECT count(*) FROM outbound_messages WHERE customer_id = %s", (theirs["customer"],))
    ).fetchone()
    assert row == (0,)


async def test_two_accounts_see_only_their_own_customers_and_campaigns_and_may_share_a_phone(
    client: httpx.AsyncClient, other: httpx.AsyncClient, theirs: dict[str, Any]
) -> None:
    phone = next_phone()
    mine = await create_customer(client, phone=phone)
    also = await create_customer(other, phone=phone)
    assert mine["id"] != also["id"]
    assert_error(await other.post("/customers", json={"phone": phone}), 409, "CUSTOMER_PHONE_EXISTS")

    their_customers = {c["id"] for c in (await other.get("/customers", params={"page_size": 100})).json()["data"]}
    assert also["id"] in their_customers
    assert mine["id"] not in their_customers and theirs["customer"] not in their_customers
    their_campaigns = {c["id"] for c in (await other.get("/campaigns", params={"page_size": 100})).json()["data"]}
    assert theirs["campaign"] not in their_campaigns


async def test_row_level_security_hides_every_row_without_the_account_even_without_a_where(
    database_url: str, account: KeyedAccount, other_account: KeyedAccount, theirs: dict[str, Any]
) -> None:
    tables = ("customers", "campaigns", "outbound_messages", "idempotency_keys", "api_keys", "audit_events")
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        # the owner sees rows of several accounts: the ones below are hidden by the policies, not absent
        cur = await conn.execute("SELECT count(DISTINCT account_id) FROM customers")
        assert (await cur.fetchone() or (0,))[0] >= 2
        await conn.execute("SET LOCAL ROLE campaign_app")
        for table in tables:
            # no account set in this transaction: nothing, although the statement has no WHERE at all
            cur = await conn.execute(f"SELECT count(*) FROM {table}")
            assert await cur.fetchone() == (0,), table
        await conn.rollback()
        # SET LOCAL: the role, like the account, lasts one transaction (the API's pool sets the role per session)
        await conn.execute("SET LOCAL ROLE campaign_app")
        await conn.execute("SELECT set_config('app.account_id', %s, true)", (str(other_account.id),))
        cur = await conn.execute("SELECT DISTINCT account_id FROM customers")  # the WHERE a bug dropped
        assert {row[0] for row in await cur.fetchall()} <= {other_account.id}
        cur = await conn.execute("SELECT count(*) FROM campaigns WHERE id = %s", (theirs["campaign"],))
        assert await cur.fetchone() == (0,)
        await conn.rollback()
        # and it cannot write outside its account, nor without one
        await conn.execute("SET LOCAL ROLE campaign_app")
        await conn.execute("SELECT set_config('app.account_id', %s, true)", (str(other_account.id),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("INSERT INTO customers (account_id, phone) VALUES (%s, %s)", (account.id, next_phone()))
        await conn.rollback()
        await conn.execute("SET LOCAL ROLE campaign_app")
        with pytest.raises(psycopg.Error):
            await conn.execute("INSERT INTO customers (phone) VALUES (%s)", (next_phone(),))
        await conn.rollback()


async def test_keys_are_created_once_listed_by_prefix_and_revoked_at_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post("/api-keys", json={"name": "reporting", "scopes": ["campaigns:read"]})
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert key.startswith("cdk_") and len(key) >= 40 and body["prefix"] == key[:12]
    assert body["scopes"] == ["campaigns:read"] and body["revoked_at"] is None

    listed = (await client.get("/api-keys")).json()["data"]
    entry = next(k for k in listed if k["id"] == body["id"])
    assert "key" not in entry and entry["prefix"] == body["prefix"]
    assert all(key not in str(k) for k in listed)

    async with client_with(app, key) as reporting:
        assert (await reporting.get("/campaigns")).status_code == 200
        assert_error(await reporting.post("/customers", json={"phone": next_phone()}), 403, "FORBIDDEN")
        revoked = await client.delete(f"/api-keys/{body['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        # the very next request with it is refused: the revocation forgets it in this process's key cache
        assert_unauthenticated(await reporting.get("/campaigns"))
    again = await client.delete(f"/api-keys/{body['id']}")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_an_accounts_key_cannot_be_given_the_system_scope_or_unknown_ones(client: httpx.AsyncClient) -> None:
    system = await client.post("/api-keys", json={"name": "sneaky", "scopes": ["campaigns:schedule"]})
    assert_error(system, 422, "SCOPE_NOT_ALLOWED")
    unknown = await client.post("/api-keys", json={"name": "x", "scopes": ["everything"]})
    assert_error(unknown, 422, "VALIDATION_ERROR")


async def test_the_system_key_lists_every_accounts_due_campaigns_and_sends_only_due_ones(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    db: psycopg.AsyncConnection[tuple[Any, ...]],
) -> None:
    due = []
    for http in (client, other):
        customer = await create_customer(http)
        campaign = await create_campaign(
            http,
            audience={"customer_ids": [customer["id"]]},
            scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        )
        due.append(campaign["id"])
    not_yet = await create_campaign(
        client,
        audience={"customer_ids": [customer["id"]]},
        scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    await db.execute("UPDATE campaigns SET scheduled_at = now() - interval '1 minute' WHERE id = ANY(%s)", (due,))
    system_key = await create_key(settings, None, SYSTEM_SCOPES, "scheduler")
    async with client_with(app, system_key) as scheduler:
        listed = {c["id"] for c in (await scheduler.get("/campaigns/due", params={"limit": 500})).json()["data"]}
        assert set(due) <= listed and not_yet["id"] not in listed
        # an account's key lists only its own due campaigns
        assert due[1] not in {c["id"] for c in (await client.get("/campaigns/due")).json()["data"]}
        assert_error(await scheduler.post(f"/campaigns/{not_yet['id']}/send"), 409, "CAMPAIGN_NOT_DUE")
        for campaign_id in due:
            sent = await scheduler.post(f"/campaigns/{campaign_id}/send", headers={"Idempotency-Key": "tick-1"})
            assert sent.status_code == 202, sent.text
        # nothing else: no reading, no writing, no customers
        assert_error(await scheduler.get("/campaigns"), 403, "FORBIDDEN")
        assert_error(await scheduler.get(f"/campaigns/{due[0]}"), 403, "FORBIDDEN")
        assert_error(await scheduler.post("/campaigns/999999999/send"), 404, "CAMPAIGN_NOT_FOUND")
    assert (await other.get(f"/campaigns/{due[1]}")).json()["status"] == "sending"


async def test_changes_are_audited_with_the_key_and_paged_newest_first(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    customer = await create_customer(client)
    campaign = await create_campaign(
        client,
        scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        audience={"customer_ids": [customer["id"]]},
    )
    await client.patch(f"/campaigns/{campaign['id']}", json={"name": "renamed"})
    await client.post(f"/campaigns/{campaign['id']}/cancel")
    await client.post(f"/campaigns/{campaign['id']}/send")
    page = (await client.get("/audit-events", params={"limit": 4})).json()
    actions = [(e["action"], e["target_id"]) for e in page["data"]]
    assert actions == [
        ("campaign.sent", campaign["id"]),
        ("campaign.cancelled", campaign["id"]),
        ("campaign.updated", campaign["id"]),
        ("campaign.created", campaign["id"]),
    ]
    assert page["data"][2]["changes"]["name"] == "renamed"
    assert page["data"][0]["changes"]["messages_queued"] == 1
    assert all(e["api_key_id"] is not None for e in page["data"])
    assert page["next_cursor"] == page["data"][-1]["id"]
    older = (await client.get("/audit-events", params={"limit": 1, "before_id": page["next_cursor"]})).json()
    assert older["data"][0]["action"] == "customer.created" and older["data"][0]["target_id"] == customer["id"]
    # the other account's trail has none of it
    theirs = (await other.get("/audit-events", params={"limit": 100})).json()["data"]
    assert all(e["target_id"] != campaign["id"] for e in theirs if e["target_type"] == "campaign")


async def test_keys_never_reach_the_logs(
    app: FastAPI, client: httpx.AsyncClient, account: KeyedAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    campaign = await create_campaign(client)
    customer = await create_customer(client)
    await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})
    created = (await client.post("/api-keys", json={"name": "logged?", "scopes": ["audit:read"]})).json()
    async with client_with(app, "cdk_" + "y" * 43) as unknown:
        await unknown.get("/campaigns")
    assert caplog.records
    for record in caplog.records:
        seen = f"{record.getMessage()} {record.__dict__}"
        for secret in (account.key, created["key"], "cdk_" + "y" * 43):
            assert secret not in seen, record


async def test_openapi_declares_the_bearer_scheme_on_every_keyed_operation(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    for method, path in ROUTES:
        operation = spec["paths"][path][method.lower()]
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert "security" not in spec["paths"]["/health"]["get"]

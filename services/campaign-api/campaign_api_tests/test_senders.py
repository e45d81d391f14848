"""/senders: validation by provider and channel, credentials only by reference, defaults, paging, isolation, and
the sender a campaign names."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from campaign_api.accounts import Scope
from campaign_api.main import create_key
from campaign_api.settings import Settings
from fastapi import FastAPI

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign


async def create_sender(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """POST /senders with an SMS Kannel sender unless told otherwise; assert 201."""
    body = {"name": f"sender-{id(fields)}-{len(fields)}", "channel": "sms", "provider": "kannel", "address": "ACME"}
    body.update(fields)
    response = await client.post("/senders", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def other_client(app: FastAPI, account: KeyedAccount) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://campaign-api", headers=account.headers
    )


async def test_a_sender_is_answered_with_its_callback_urls_and_never_its_credentials(
    client: httpx.AsyncClient,
) -> None:
    created = await create_sender(
        client, name="Kannel Safaricom", credentials_ref="KANNEL_PASSWORD", throughput_per_s=50, is_default=False
    )

    assert created["credentials_ref"] == "KANNEL_PASSWORD"
    assert created["throughput_per_s"] == 50
    urls = created["callback_urls"]
    receipts = urls["delivery_receipts"]
    assert receipts.startswith("http://campaign-api/providers/kannel/")
    assert receipts.endswith("/receipts?message_id={message_id}&type=%d&reply=%A&ts=%T")
    token = receipts.split("/providers/kannel/")[1].split("/")[0]
    assert len(token) >= 40
    assert urls["inbound"].startswith(f"http://campaign-api/providers/kannel/{token}/inbound?from=%p")
    # the token appears only inside the URLs; no credential field exists at all
    for answer in (
        created,
        (await client.get(f"/senders/{created['id']}")).json(),
        next(s for s in (await client.get("/senders")).json()["data"] if s["id"] == created["id"]),
    ):
        assert set(answer) == {
            "id",
            "name",
            "channel",
            "provider",
            "address",
            "credentials_ref",
            "throughput_per_s",
            "is_default",
            "send_window",
            "callback_urls",
            "created_at",
            "updated_at",
        }
        flat = str({k: v for k, v in answer.items() if k != "callback_urls"})
        assert token not in flat


async def test_callback_urls_start_with_the_public_base_url(app: FastAPI, client: httpx.AsyncClient) -> None:
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"public_base_url": "https://api.example.com"})
    try:
        created = await create_sender(client, name="aggregator public", provider="aggregator", address="ACME")
    finally:
        app.state.settings = settings
    assert created["callback_urls"]["delivery_receipts"].startswith("https://api.example.com/providers/aggregator/")
    assert created["callback_urls"]["inbound"].endswith("/inbound")


@pytest.mark.parametrize(
    ("fields", "code", "named"),
    [
        ({"provider": "kannel", "channel": "whatsapp", "address": "+254700000001"}, "INVALID_SENDER", "body.channel"),
        (
            {"provider": "aggregator", "channel": "whatsapp", "address": "+254700000001"},
            "INVALID_SENDER",
            "body.channel",
        ),
        ({"provider": "whatsapp", "channel": "sms", "address": "ACME"}, "INVALID_SENDER", "body.channel"),
        ({"address": "TWELVECHARSX"}, "INVALID_SENDER", "body.address"),
        ({"address": "ACME-SHOP"}, "INVALID_SENDER", "body.address"),
        ({"address": "+0123"}, "INVALID_SENDER", "body.address"),
        ({"provider": "whatsapp", "channel": "whatsapp", "address": "+254700000001"}, "INVALID_SENDER", "body.address"),
        ({"provider": "mock", "channel": "whatsapp", "address": "ACME"}, "INVALID_SENDER", "body.address"),
        ({"credentials_ref": "kannel password"}, "VALIDATION_ERROR", "body.credentials_ref"),
        ({"throughput_per_s": 0}, "VALIDATION_ERROR", "body.throughput_per_s"),
        ({"provider": "smpp"}, "VALIDATION_ERROR", "body.provider"),
    ],
)
async def test_a_sender_that_breaks_its_channel_rules_is_refused(
    client: httpx.AsyncClient, fields: dict[str, Any], code: str, named: str
) -> None:
    body = {"name": "refused", "channel": "sms", "provider": "kannel", "address": "ACME", **fields}
    message = assert_error(await client.post("/senders", json=body), 422, code)
    assert named in message


@pytest.mark.parametrize(
    ("channel", "provider", "address"),
    [
        ("sms", "kannel", "+254700000001"),
        ("sms", "kannel", "22384"),
        ("sms", "aggregator", "ACME Shop"),
        ("sms", "mock", "ELEVENCHARS"),
        ("whatsapp", "whatsapp", "106540352242922"),
        ("whatsapp", "mock", "+254700000001"),
    ],
)
async def test_every_provider_takes_the_addresses_its_channel_allows(
    client: httpx.AsyncClient, channel: str, provider: str, address: str
) -> None:
    created = await create_sender(
        client, name=f"{provider}-{address}", channel=channel, provider=provider, address=address
    )
    assert (created["channel"], created["provider"], created["address"]) == (channel, provider, address)


async def test_a_new_default_takes_the_place_of_the_channels_old_one(client: httpx.AsyncClient) -> None:
    first = await create_sender(client, name="default one", is_default=True)
    second = await create_sender(client, name="default two", is_default=True)
    whatsapp = await create_sender(
        client, name="wa default", channel="whatsapp", provider="whatsapp", address="1065403522", is_default=True
    )

    assert (await client.get(f"/senders/{first['id']}")).json()["is_default"] is False
    assert (await client.get(f"/senders/{second['id']}")).json()["is_default"] is True
    assert (await client.get(f"/senders/{whatsapp['id']}")).json()["is_default"] is True

    patched = await client.patch(f"/senders/{first['id']}", json={"is_default": True})
    assert patched.status_code == 200 and patched.json()["is_default"] is True
    assert (await client.get(f"/senders/{second['id']}")).json()["is_default"] is False


async def test_patch_changes_the_fields_given_and_a_rotated_token_revokes_the_old_urls(
    client: httpx.AsyncClient,
) -> None:
    created = await create_sender(client, name="to patch", provider="aggregator", address="ACME")
    old_url = created["callback_urls"]["delivery_receipts"]

    response = await client.patch(
        f"/senders/{created['id']}", json={"throughput_per_s": 12.5, "rotate_callback_token": True}
    )

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["throughput_per_s"] == 12.5 and patched["name"] == "to patch" and patched["address"] == "ACME"
    assert patched["callback_urls"]["delivery_receipts"] != old_url
    old = await client.post(old_url.removeprefix("http://campaign-api"), content=b"id=x&status=Success")
    assert_error(old, 401, "UNAUTHENTICATED")
    assert_error(await client.patch(f"/senders/{created['id']}", json={"address": "not valid!"}), 422, "INVALID_SENDER")
    assert_error(await client.patch(f"/senders/{created['id']}", json={}), 422, "VALIDATION_ERROR")
    assert_error(await client.patch(f"/senders/{created['id']}", json={"provider": "kannel"}), 422, "VALIDATION_ERROR")


async def test_names_are_unique_per_account(client: httpx.AsyncClient) -> None:
    await create_sender(client, name="twice")
    body = {"name": "twice", "channel": "sms", "provider": "kannel", "address": "ACME"}
    assert_error(await client.post("/senders", json=body), 409, "SENDER_NAME_EXISTS")


async def test_the_list_pages_newest_first_by_keyset(client: httpx.AsyncClient) -> None:
    made = [(await create_sender(client, name=f"paged {i}", provider="mock", address="PAGED"))["id"] for i in range(3)]

    first = (await client.get("/senders", params={"page_size": 2})).json()
    assert [s["id"] for s in first["data"]] == sorted(made, reverse=True)[:2]
    second = (await client.get("/senders", params={"page_size": 2, "before_id": first["next_cursor"]})).json()
    assert second["data"][0]["id"] == min(made)
    whatsapp_only = (await client.get("/senders", params={"channel": "whatsapp"})).json()["data"]
    assert all(s["channel"] == "whatsapp" for s in whatsapp_only)


async def test_another_accounts_senders_are_invisible(
    app: FastAPI, client: httpx.AsyncClient, other_account: KeyedAccount
) -> None:
    mine = await create_sender(client, name="mine only")
    async with other_client(app, other_account) as other:
        assert_error(await other.get(f"/senders/{mine['id']}"), 404, "SENDER_NOT_FOUND")
        assert_error(await other.patch(f"/senders/{mine['id']}", json={"name": "taken"}), 404, "SENDER_NOT_FOUND")
        assert_error(await other.delete(f"/senders/{mine['id']}"), 404, "SENDER_NOT_FOUND")
        assert mine["id"] not in [s["id"] for s in (await other.get("/senders")).json()["data"]]
        # and another account's campaign cannot name it
        body = {"name": "theirs", "channel": "sms", "base_template": "Hi", "sender_id": mine["id"]}
        assert_error(await other.post("/campaigns", json=body), 422, "UNKNOWN_SENDER")


async def test_senders_need_their_scopes(app: FastAPI, settings: Settings, account: KeyedAccount) -> None:
    reader = await create_key(settings, str(account.id), frozenset({Scope.SENDERS_READ}), "senders reader")
    async with other_client(app, KeyedAccount(account.id, reader)) as client:
        assert (await client.get("/senders")).status_code == 200
        body = {"name": "nope", "channel": "sms", "provider": "kannel", "address": "ACME"}
        assert_error(await client.post("/senders", json=body), 403, "FORBIDDEN")


async def test_a_campaign_names_a_sender_of_its_channel(client: httpx.AsyncClient) -> None:
    sms = await create_sender(client, name="campaign sms sender")
    whatsapp = await create_sender(
        client, name="campaign wa sender", channel="whatsapp", provider="whatsapp", address="1065403599"
    )

    campaign = await create_campaign(client, sender_id=sms["id"])
    assert campaign["sender_id"] == sms["id"]
    assert (await client.get(f"/campaigns/{campaign['id']}")).json()["sender_id"] == sms["id"]
    mismatch = await client.patch(f"/campaigns/{campaign['id']}", json={"sender_id": whatsapp["id"]})
    assert_error(mismatch, 422, "SENDER_CHANNEL_MISMATCH")
    body = {"name": "x", "channel": "sms", "base_template": "Hi", "sender_id": 9_000_000_000}
    assert_error(await client.post("/campaigns", json=body), 422, "UNKNOWN_SENDER")
    assert_error(await client.delete(f"/senders/{sms['id']}"), 409, "SENDER_IN_USE")

    cleared = await client.patch(f"/campaigns/{campaign['id']}", json={"sender_id": None})
    assert cleared.status_code == 200 and cleared.json()["sender_id"] is None
    # a campaign that names none keeps null: the account's default sender, else the platform's, sends it
    assert (await create_campaign(client))["sender_id"] is None
    assert (await client.delete(f"/senders/{sms['id']}")).status_code == 204
    assert_error(await client.get(f"/senders/{sms['id']}"), 404, "SENDER_NOT_FOUND")

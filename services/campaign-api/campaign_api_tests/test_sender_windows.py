"""A sender's own send window on /senders: shown, changed, removed, validated, and never disjoint from the
account's (checked on both sides: the sender's POST/PATCH and the account's PUT /account/compliance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from campaign_api.settings import Settings
from fastapi import FastAPI

from campaign_api_tests.factories import assert_error, new_account

KENYA = {"preset": "ke-safaricom", "start": "08:00", "end": "18:00", "time_zone": "Africa/Nairobi"}
EVENING = {"start": "19:00", "end": "21:00", "time_zone": "Africa/Nairobi"}


@pytest.fixture
async def fresh(app: FastAPI, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an account of its own: its windows reach no other test."""
    account = await new_account(settings, "sender-windows")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=account.headers) as c:
        yield c


async def post_sender(client: httpx.AsyncClient, name: str, **fields: Any) -> httpx.Response:
    body = {"name": name, "channel": "sms", "provider": "kannel", "address": "ACME", **fields}
    return await client.post("/senders", json=body)


async def test_a_sender_window_is_shown_changed_kept_and_removed(fresh: httpx.AsyncClient) -> None:
    created = await post_sender(fresh, "promo", send_window={"preset": "ke-safaricom"})
    assert created.status_code == 201, created.text
    sender = created.json()
    assert sender["send_window"] == KENYA
    assert (await fresh.get(f"/senders/{sender['id']}")).json()["send_window"] == KENYA

    hours = {"start": "09:00", "end": "17:00", "time_zone": "Africa/Nairobi"}
    changed = await fresh.patch(f"/senders/{sender['id']}", json={"send_window": hours})
    assert changed.status_code == 200, changed.text
    assert changed.json()["send_window"] == {"preset": None, **hours}
    # a PATCH that does not name the window keeps it
    renamed = (await fresh.patch(f"/senders/{sender['id']}", json={"name": "promo 2"})).json()
    assert renamed["send_window"] == {"preset": None, **hours}
    # null removes it
    removed = (await fresh.patch(f"/senders/{sender['id']}", json={"send_window": None})).json()
    assert removed["send_window"] is None
    plain = await post_sender(fresh, "plain")
    assert plain.json()["send_window"] is None


@pytest.mark.parametrize(
    "window",
    [
        {"start": "09:00", "end": "17:00", "time_zone": "Mars/Olympus"},
        {"start": "09:00", "end": "09:00", "time_zone": "Africa/Nairobi"},
        {"start": "09:00", "time_zone": "Africa/Nairobi"},
        {"start": "9am", "end": "17:00", "time_zone": "Africa/Nairobi"},
        {"preset": "ke-safaricom", "start": "09:00", "end": "17:00", "time_zone": "Africa/Nairobi"},
        {"preset": "mars"},
        "08:00-18:00",
    ],
)
async def test_a_sender_window_that_is_not_one_is_422_naming_the_field(fresh: httpx.AsyncClient, window: Any) -> None:
    message = assert_error(await post_sender(fresh, "bad", send_window=window), 422, "VALIDATION_ERROR")
    assert "body.send_window" in message
    existing = (await post_sender(fresh, "good")).json()
    patched = await fresh.patch(f"/senders/{existing['id']}", json={"send_window": window})
    assert "body.send_window" in assert_error(patched, 422, "VALIDATION_ERROR")


async def test_a_sender_window_that_never_meets_the_accounts_is_refused(fresh: httpx.AsyncClient) -> None:
    assert (await fresh.put("/account/compliance", json={"send_window": {"preset": "ke-safaricom"}})).status_code == 200

    # 19:00-21:00 never meets 08:00-18:00: its promotional messages could never go
    message = assert_error(await post_sender(fresh, "evening", send_window=EVENING), 422, "SEND_WINDOW_DISJOINT")
    assert "body.send_window" in message and "19:00-21:00 Africa/Nairobi" in message
    assert "08:00-18:00 Africa/Nairobi" in message
    # the same hours eight hours west never meet it either for a customer without a zone of their own
    far = {"start": "09:00", "end": "11:00", "time_zone": "America/Los_Angeles"}
    assert_error(await post_sender(fresh, "far", send_window=far), 422, "SEND_WINDOW_DISJOINT")
    # ending when the account's opens is no overlap (the end is excluded)
    dawn = {"start": "05:00", "end": "08:00", "time_zone": "Africa/Nairobi"}
    assert_error(await post_sender(fresh, "dawn", send_window=dawn), 422, "SEND_WINDOW_DISJOINT")

    # overlapping by an hour, or wider than the account's, is accepted (the intersection is what applies)
    late = {"start": "17:00", "end": "20:00", "time_zone": "Africa/Nairobi"}
    assert (await post_sender(fresh, "late", send_window=late)).status_code == 201
    wide = {"start": "06:00", "end": "22:00", "time_zone": "Africa/Nairobi"}
    assert (await post_sender(fresh, "wide", send_window=wide)).status_code == 201

    sender = (
        await post_sender(
            fresh, "morning", send_window={"start": "09:00", "end": "11:00", "time_zone": "Africa/Nairobi"}
        )
    ).json()
    patched = await fresh.patch(f"/senders/{sender['id']}", json={"send_window": EVENING})
    assert_error(patched, 422, "SEND_WINDOW_DISJOINT")
    assert (await fresh.get(f"/senders/{sender['id']}")).json()["send_window"]["start"] == "09:00"  # unchanged


async def test_a_new_account_window_must_meet_every_sender_window(fresh: httpx.AsyncClient) -> None:
    sender = (await post_sender(fresh, "evening only", send_window=EVENING)).json()  # no account window yet: fine

    message = assert_error(
        await fresh.put("/account/compliance", json={"send_window": {"preset": "ke-safaricom"}}),
        422,
        "SEND_WINDOW_DISJOINT",
    )
    assert f"'evening only' (id {sender['id']})" in message
    assert (await fresh.get("/account/compliance")).json()["send_window"] is None  # nothing changed

    assert (await fresh.put("/account/compliance", json={"send_window": {"preset": "us-tcpa"}})).status_code == 200
    # removing the account's window always works
    assert (await fresh.put("/account/compliance", json={"send_window": None})).status_code == 200

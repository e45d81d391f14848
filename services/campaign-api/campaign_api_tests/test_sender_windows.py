"""A sender's own send window on /senders: shown, changed, removed, validated, and never disjoint from the
account's (checked on both sides: the sender's POST/PATCH and the account's PUT /account/compliance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from campaign_api.settings import Settings
from fastapi import FastAPI

from campaign_api_tests.factories import KeyedAccount, assert_error, new_account

KENYA = {"preset": "ke-safaricom", "start": "08:00", "end": "18:00", "time_zone": "Africa/Nairobi"}
EVENING = {"start": "19:00", "end": "21:00", "time_zone": "Africa/Nairobi"}


@dataclass(frozen=True, slots=True)
class Fresh:
    account: KeyedAccount
    client: httpx.AsyncClient


@pytest.fixture
async def own(app: FastAPI, settings: Settings) -> AsyncIterator[Fresh]:
    """An account of its own and its client: its windows reach no other test."""
    account = await new_account(settings, "sender-windows")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=account.headers) as c:
        yield Fresh(account, c)


@pytest.fixture
def fresh(own: Fresh) -> httpx.AsyncClient:
    return own.client


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


async def test_changing_a_sender_window_releases_only_the_messages_waiting_for_a_window(
    own: Fresh, database_url: str
) -> None:
    morning = {"start": "09:00", "end": "11:00", "time_zone": "Africa/Nairobi"}
    sender = (await post_sender(own.client, "releasing", send_window=morning)).json()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SELECT set_config('app.account_id', %s, false)", (str(own.account.id),))
        cur = await conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template, sender_id) VALUES"
            " ('waits', 'sms', 'sending', 'Hi', %s) RETURNING id",
            (sender["id"],),
        )
        campaign = await cur.fetchone()
        assert campaign is not None
        waits: dict[str, int] = {}
        for n, reason in enumerate(
            ("outside the send window; waits until tomorrow", "waiting for the sender's throughput")
        ):
            cur = await conn.execute(
                "INSERT INTO customers (phone) VALUES (%s) RETURNING id", (f"+25471200{own.account.id % 1000:03d}{n}",)
            )
            customer = await cur.fetchone()
            assert customer is not None
            cur = await conn.execute(
                "INSERT INTO outbound_messages (campaign_id, customer_id, status, not_before, last_error)"
                " VALUES (%s, %s, 'pending', now() + interval '12 hours', %s) RETURNING id",
                (campaign[0], customer[0], reason),
            )
            row = await cur.fetchone()
            assert row is not None
            waits[reason.split()[0]] = row[0]

        assert (await own.client.patch(f"/senders/{sender['id']}", json={"send_window": None})).status_code == 200

        cur = await conn.execute(
            "SELECT id, not_before <= now() FROM outbound_messages WHERE id = ANY(%s)", (list(waits.values()),)
        )
        released: dict[int, bool] = {r[0]: r[1] for r in await cur.fetchall()}
    # the window's wait is judged again at once; the throughput's keeps its time
    assert released == {waits["outside"]: True, waits["waiting"]: False}

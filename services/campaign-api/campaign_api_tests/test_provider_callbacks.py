"""Providers' callbacks: delivery receipts (Kannel, the aggregator, WhatsApp) on their messages, once; receipts that
come early or for unknown ids; inbound messages stored per provider; and never a 500 to garbage."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from campaign_api.main import create_app
from campaign_api.settings import Settings
from campaign_api.usecases.provider_callbacks import SweepReceipts
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer

APP_SECRET = "whatsapp-app-secret-for-tests"  # noqa: S105 - the test's own
VERIFY_TOKEN = "verify-me-please"  # noqa: S105 - the test's own
FORM = {"content-type": "application/x-www-form-urlencoded"}
Db = psycopg.AsyncConnection[tuple[Any, ...]]


@pytest.fixture(scope="module")
async def callbacks_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with the WhatsApp webhook configured, on its own metrics registry (the counters are asserted)."""
    configured = settings.model_copy(
        update={"whatsapp_app_secret": SecretStr(APP_SECRET), "whatsapp_verify_token": SecretStr(VERIFY_TOKEN)}
    )
    application = create_app(configured, registry=CollectorRegistry())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(callbacks_app: FastAPI, account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=callbacks_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api", headers=account.headers) as http:
        yield http


@pytest.fixture
async def anonymous(callbacks_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A provider: no API key."""
    transport = httpx.ASGITransport(app=callbacks_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://campaign-api") as http:
        yield http


def sample(app: FastAPI, name: str, **labels: str) -> float:
    value = app.state.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


def path_of(url: str) -> str:
    return url.removeprefix("http://campaign-api")


async def new_sender(
    api: httpx.AsyncClient, provider: str, channel: str = "sms", address: str = "ACME"
) -> dict[str, Any]:
    body = {
        "name": f"{provider} {datetime.now(UTC).timestamp()}",
        "channel": channel,
        "provider": provider,
        "address": address,
    }
    response = await api.post("/senders", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def queued_message(api: httpx.AsyncClient, db: Db, channel: str = "sms") -> int:
    """One pending message of a new campaign, as a send leaves it; its id."""
    campaign = await create_campaign(api, channel=channel)
    customer = await create_customer(api)
    send = await api.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": [customer["id"]]})
    assert send.status_code == 202, send.text
    cur = await db.execute("SELECT id FROM outbound_messages WHERE campaign_id = %s", (campaign["id"],))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def worker_accepts(db: Db, message_id: int, provider: str, provider_message_id: str | None) -> None:
    """What the worker's outcome commit does when the provider accepted the message."""
    await db.execute(
        "UPDATE outbound_messages SET status = 'sent', sent_at = now() - interval '3 seconds', provider = %s,"
        " provider_message_id = %s WHERE id = %s",
        (provider, provider_message_id, message_id),
    )


async def delivery_of(db: Db, message_id: int) -> tuple[Any, ...]:
    cur = await db.execute(
        "SELECT delivery_status, delivery_code, delivery_reason, delivered_at, receipt_received_at"
        " FROM outbound_messages WHERE id = %s",
        (message_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return tuple(row)


async def stats_of(api: httpx.AsyncClient, db: Db, message_id: int) -> dict[str, int]:
    cur = await db.execute("SELECT campaign_id FROM outbound_messages WHERE id = %s", (message_id,))
    row = await cur.fetchone()
    assert row is not None
    stats: dict[str, int] = (await api.get(f"/campaigns/{row[0]}")).json()["stats"]
    return stats


def kannel_dlr(sender: dict[str, Any], message_id: int, dlr_type: int, ts: int = 1_767_000_000) -> str:
    """The URL Kannel fetches: the sender's template with the worker's id and Kannel's escapes filled in."""
    template = path_of(sender["callback_urls"]["delivery_receipts"])
    base = template.split("?")[0]
    return base + "?" + urlencode({"message_id": message_id, "type": dlr_type, "reply": "id:1 stat:DELIVRD", "ts": ts})


# --- Kannel ---------------------------------------------------------------------------------------------------


async def test_kannel_receipts_move_a_message_to_delivered_once(
    callbacks_app: FastAPI, api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    sender = await new_sender(api, "kannel")
    message_id = await queued_message(api, db)
    await worker_accepts(db, message_id, "kannel", None)
    before = sample(callbacks_app, "delivery_receipts_total", provider="kannel", status="delivered", outcome="applied")

    accepted = await anonymous.get(kannel_dlr(sender, message_id, 8))
    delivered = await anonymous.get(kannel_dlr(sender, message_id, 1, ts=1_767_000_042))
    again = await anonymous.get(kannel_dlr(sender, message_id, 1, ts=1_767_000_999))

    assert accepted.status_code == delivered.status_code == again.status_code == 200
    assert accepted.json()["outcomes"] == ["unchanged"]  # accepted by the SMSC: intermediate
    assert delivered.json()["outcomes"] == ["applied"]
    assert again.json()["outcomes"] == ["duplicate"]
    status, code, reason, delivered_at, received_at = await delivery_of(db, message_id)
    assert (status, code, reason) == ("delivered", "1", "id:1 stat:DELIVRD")
    assert delivered_at == datetime.fromtimestamp(1_767_000_042, UTC)  # the duplicate's time changed nothing
    assert received_at is not None
    stats = await stats_of(api, db, message_id)
    assert (stats["sent"], stats["delivered"], stats["undelivered"]) == (1, 1, 0)
    after = sample(callbacks_app, "delivery_receipts_total", provider="kannel", status="delivered", outcome="applied")
    assert after == before + 1
    assert sample(callbacks_app, "delivery_receipt_latency_seconds_count", provider="kannel", status="delivered") >= 1


async def test_a_kannel_receipt_before_the_outcome_commit_is_applied_when_the_worker_commits(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    sender = await new_sender(api, "kannel")
    message_id = await queued_message(api, db)

    early = await anonymous.get(kannel_dlr(sender, message_id, 16))

    assert early.status_code == 200 and early.json()["outcomes"] == ["waiting"]
    assert (await delivery_of(db, message_id))[0] is None
    await worker_accepts(db, message_id, "kannel", None)
    status, code, reason, _, _ = await delivery_of(db, message_id)
    assert (status, code) == ("undelivered", "16")
    assert reason == "id:1 stat:DELIVRD"  # the SMSC's own reply is kept as the reason
    assert (await stats_of(api, db, message_id))["undelivered"] == 1


async def test_a_receipt_whose_transaction_overlaps_the_outcome_commit_is_applied_by_the_sweep(
    settings: Settings, api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db, database_url: str
) -> None:
    sender = await new_sender(api, "aggregator")
    message_id = await queued_message(api, db)
    async with await psycopg.AsyncConnection.connect(database_url) as worker:
        # the worker's outcome UPDATE runs (its trigger finds no receipt) but is not committed yet...
        await worker.execute(
            "UPDATE outbound_messages SET status = 'sent', sent_at = now(), provider = 'aggregator',"
            " provider_message_id = 'ATXid_overlap' WHERE id = %s",
            (message_id,),
        )
        # ...when the receipt comes: it cannot see the message yet, so it waits
        form = urlencode({"id": "ATXid_overlap", "status": "Success", "phoneNumber": "+254711000001"})
        receipt = await anonymous.post(
            path_of(sender["callback_urls"]["delivery_receipts"]), content=form, headers=FORM
        )
        assert receipt.json()["outcomes"] == ["waiting"]
        await worker.commit()
    assert (await delivery_of(db, message_id))[0] is None

    # the API's timer runs this sweep over its owner pool; here the use case is called once
    async with AsyncConnectionPool(database_url, min_size=1, max_size=1, open=False) as pool:
        changed = await SweepReceipts(pool, settings.receipt_sweep_max_age_s)()
    assert changed >= 1
    assert (await delivery_of(db, message_id))[0] == "delivered"


async def test_a_receipt_for_an_unknown_message_answers_200_and_is_counted(
    callbacks_app: FastAPI, api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    sender = await new_sender(api, "kannel")
    before = sample(callbacks_app, "delivery_receipts_unmatched_total", provider="kannel")

    response = await anonymous.get(kannel_dlr(sender, 987_654_321, 1))

    assert response.status_code == 200 and response.json()["outcomes"] == ["waiting"]
    assert sample(callbacks_app, "delivery_receipts_unmatched_total", provider="kannel") == before + 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?message_id=abc&type=1",
        "?message_id=1&type=3",
        "?message_id=1&type=x",
        "?message_id=" + "9" * 30 + "&type=1",
        "?message_id=1&type=1&ts=" + "9" * 19,
        "?message_id=1&type=1&reply=%00%00",
    ],
)
async def test_kannel_garbage_is_a_4xx_never_a_500(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, query: str
) -> None:
    sender = await new_sender(api, "kannel")
    base = path_of(sender["callback_urls"]["delivery_receipts"]).split("?")[0]
    response = await anonymous.get(base + query)
    assert response.status_code in {200, 422}, response.text
    if response.status_code == 422:
        assert response.json()["error"]["code"] in {"INVALID_CALLBACK", "VALIDATION_ERROR"}


async def test_an_unknown_or_another_providers_token_is_401(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    aggregator = await new_sender(api, "aggregator")
    token = aggregator["callback_urls"]["delivery_receipts"].split("/")[-2]
    assert_error(await anonymous.get(f"/providers/kannel/{token}/receipts?message_id=1&type=1"), 401, "UNAUTHENTICATED")
    assert_error(
        await anonymous.get("/providers/kannel/" + "x" * 43 + "/receipts?message_id=1&type=1"), 401, "UNAUTHENTICATED"
    )
    assert_error(
        await anonymous.post("/providers/aggregator/short/receipts", content=b"id=1", headers=FORM),
        401,
        "UNAUTHENTICATED",
    )


# --- the aggregator (Africa's Talking) ------------------------------------------------------------------------------


async def test_aggregator_reports_map_success_and_failure_reasons(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    sender = await new_sender(api, "aggregator")
    url = path_of(sender["callback_urls"]["delivery_receipts"])
    ok, failed = await queued_message(api, db), await queued_message(api, db)
    await worker_accepts(db, ok, "aggregator", "ATXid_ok")
    await worker_accepts(db, failed, "aggregator", "ATXid_failed")

    def report(**fields: str) -> bytes:
        return urlencode({"phoneNumber": "+254711000002", "networkCode": "63902", "retryCount": "0", **fields}).encode()

    submitted = await anonymous.post(url, content=report(id="ATXid_ok", status="Submitted"), headers=FORM)
    success = await anonymous.post(url, content=report(id="ATXid_ok", status="Success"), headers=FORM)
    failure = await anonymous.post(
        url, content=report(id="ATXid_failed", status="Failed", failureReason="InsufficientCredit"), headers=FORM
    )

    assert [r.json()["outcomes"] for r in (submitted, success, failure)] == [["unchanged"], ["applied"], ["applied"]]
    assert (await delivery_of(db, ok))[:2] == ("delivered", "Success")
    assert (await delivery_of(db, failed))[:3] == (
        "undelivered",
        "InsufficientCredit",
        "the subscriber has too little airtime for the premium message",
    )


async def test_an_aggregator_report_before_the_outcome_commit_waits_for_it(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    sender = await new_sender(api, "aggregator")
    message_id = await queued_message(api, db)
    form = urlencode({"id": "ATXid_early", "status": "Rejected", "failureReason": "UserInBlackList"})

    early = await anonymous.post(path_of(sender["callback_urls"]["delivery_receipts"]), content=form, headers=FORM)

    assert early.json()["outcomes"] == ["waiting"]
    await worker_accepts(db, message_id, "aggregator", "ATXid_early")
    assert (await delivery_of(db, message_id))[:2] == ("undelivered", "UserInBlackList")


async def test_a_receipt_through_another_accounts_sender_never_touches_my_message(
    callbacks_app: FastAPI, api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db, other_account: KeyedAccount
) -> None:
    message_id = await queued_message(api, db)
    await worker_accepts(db, message_id, "aggregator", "ATXid_mine")
    transport = httpx.ASGITransport(app=callbacks_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://campaign-api", headers=other_account.headers
    ) as other:
        theirs = await new_sender(other, "aggregator")
    form = urlencode({"id": "ATXid_mine", "status": "Success"})

    response = await anonymous.post(path_of(theirs["callback_urls"]["delivery_receipts"]), content=form, headers=FORM)

    assert response.json()["outcomes"] == ["waiting"]
    assert (await delivery_of(db, message_id))[0] is None


@pytest.mark.parametrize(
    "body",
    [b"", b"id=ATXid_1", b"status=Success", b"id=x&status=Delivered", b"\xff\xfe=1", b"a=1&&&==", b"%zz=%zz"],
)
async def test_aggregator_garbage_is_a_422_never_a_500(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, body: bytes
) -> None:
    sender = await new_sender(api, "aggregator")
    for url in sender["callback_urls"].values():
        response = await anonymous.post(path_of(url), content=body, headers=FORM)
        assert_error(response, 422, "INVALID_CALLBACK")


# --- WhatsApp Cloud API ------------------------------------------------------------------------------------------


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={signature}"}


def notification(
    phone_number_id: str, statuses: list[dict[str, Any]], messages: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A webhook notification as Meta sends it (WhatsApp Cloud API, "Webhooks: messages")."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "254700000001", "phone_number_id": phone_number_id},
        "statuses": statuses,
    }
    if messages:
        value["messages"] = list(messages)
        value["contacts"] = [{"profile": {"name": "Ann"}, "wa_id": messages[0]["from"]}]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


async def test_the_webhook_verification_answers_the_challenge_only_to_the_verify_token(
    anonymous: httpx.AsyncClient,
) -> None:
    ok = await anonymous.get(
        "/providers/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await anonymous.get(
        "/providers/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert_error(wrong, 403, "FORBIDDEN")


async def test_whatsapp_statuses_reach_read_and_failed_carries_its_error_code(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    phone_number_id = "10654035224200"
    await new_sender(api, "whatsapp", channel="whatsapp", address=phone_number_id)
    read, failed = await queued_message(api, db, "whatsapp"), await queued_message(api, db, "whatsapp")
    await worker_accepts(db, read, "whatsapp", "wamid.READ")
    await worker_accepts(db, failed, "whatsapp", "wamid.FAILED")
    statuses: list[dict[str, Any]] = [
        {"id": "wamid.READ", "status": "sent", "timestamp": "1767000000", "recipient_id": "254711000003"},
        {"id": "wamid.READ", "status": "read", "timestamp": "1767000060", "recipient_id": "254711000003"},
        {"id": "wamid.READ", "status": "delivered", "timestamp": "1767000030", "recipient_id": "254711000003"},
        {
            "id": "wamid.FAILED",
            "status": "failed",
            "timestamp": "1767000010",
            "recipient_id": "254711000004",
            "errors": [{"code": 131026, "title": "Message undeliverable"}],
        },
    ]
    body, headers = signed(notification(phone_number_id, statuses))

    response = await anonymous.post("/providers/whatsapp/webhook", content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["outcomes"] == ["unchanged", "applied", "unchanged", "applied"]
    status, _, _, delivered_at, _ = await delivery_of(db, read)
    assert status == "read" and delivered_at == datetime.fromtimestamp(
        1_767_000_060, UTC
    )  # a late delivered: no change
    assert (await delivery_of(db, failed))[:3] == ("undelivered", "131026", "Message undeliverable")
    stats = await stats_of(api, db, read)
    assert (stats["delivered"], stats["read"]) == (1, 1)  # a read message was delivered too


async def test_an_unsigned_or_wrongly_signed_webhook_changes_nothing(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db
) -> None:
    phone_number_id = "10654035224201"
    await new_sender(api, "whatsapp", channel="whatsapp", address=phone_number_id)
    message_id = await queued_message(api, db, "whatsapp")
    await worker_accepts(db, message_id, "whatsapp", "wamid.SIGNED")
    payload = notification(phone_number_id, [{"id": "wamid.SIGNED", "status": "delivered", "timestamp": "1767000000"}])
    body, headers = signed(payload, "someone-else")

    unsigned = await anonymous.post(
        "/providers/whatsapp/webhook", content=body, headers={"content-type": "application/json"}
    )
    forged = await anonymous.post("/providers/whatsapp/webhook", content=body, headers=headers)
    tampered = await anonymous.post("/providers/whatsapp/webhook", content=body + b" ", headers=signed(payload)[1])

    assert_error(unsigned, 401, "UNAUTHENTICATED")
    assert_error(forged, 403, "FORBIDDEN")
    assert_error(tampered, 403, "FORBIDDEN")
    assert (await delivery_of(db, message_id))[0] is None


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b'{"entry": "x"}', b'{"entry": [{"changes": [{"value": 1}]}]}']
)
async def test_signed_garbage_is_a_422_never_a_500(anonymous: httpx.AsyncClient, raw: bytes) -> None:
    signature = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = await anonymous.post(
        "/providers/whatsapp/webhook", content=raw, headers={"x-hub-signature-256": f"sha256={signature}"}
    )
    assert_error(response, 422, "INVALID_CALLBACK")


async def test_a_webhook_for_an_unknown_phone_number_id_answers_200_and_is_counted(
    callbacks_app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    before = sample(callbacks_app, "delivery_receipts_unmatched_total", provider="whatsapp")
    body, headers = signed(notification("999999999", [{"id": "wamid.X", "status": "delivered"}]))
    response = await anonymous.post("/providers/whatsapp/webhook", content=body, headers=headers)
    assert response.status_code == 200
    assert sample(callbacks_app, "delivery_receipts_unmatched_total", provider="whatsapp") == before + 1


# --- inbound messages (MO) ---------------------------------------------------------------------------------------


async def inbound_rows(db: Db, provider: str) -> list[tuple[Any, ...]]:
    """The inbound messages this test's callbacks stored (other suites store theirs in the same database)."""
    cur = await db.execute(
        "SELECT account_id, channel, phone, body, provider_message_id FROM inbound_messages WHERE provider = %s"
        " AND provider_message_id = ANY(%s) ORDER BY id",
        (provider, ["kannel-mo-1", "at-mo-1", "wamid.MO1", "wamid.MO2"]),
    )
    return list(await cur.fetchall())


async def test_inbound_messages_are_stored_once_per_provider_in_the_senders_account(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db, account: KeyedAccount
) -> None:
    kannel = await new_sender(api, "kannel")
    aggregator = await new_sender(api, "aggregator")
    phone_number_id = "10654035224202"
    await new_sender(api, "whatsapp", channel="whatsapp", address=phone_number_id)

    kannel_url = path_of(kannel["callback_urls"]["inbound"]).split("?")[0]
    query = {"from": "0711000005", "to": "22384", "text": "STOP please", "ts": "1767000000", "id": "kannel-mo-1"}
    for _ in range(2):
        response = await anonymous.get(kannel_url, params=query)
        assert response.status_code == 200 and response.text == ""
    form = urlencode(
        {
            "from": "+254711000006",
            "to": "22384",
            "text": "Hello",
            "date": "2026-01-05T10:00:00Z",
            "id": "at-mo-1",
            "linkId": "L1",
        }
    )
    for _ in range(2):
        stored = await anonymous.post(path_of(aggregator["callback_urls"]["inbound"]), content=form, headers=FORM)
        assert stored.status_code == 200
    wa = notification(
        phone_number_id,
        [],
        [
            {
                "from": "254711000007",
                "id": "wamid.MO1",
                "timestamp": "1767000000",
                "type": "text",
                "text": {"body": "Hi there"},
            },
            {
                "from": "254711000007",
                "id": "wamid.MO2",
                "timestamp": "1767000001",
                "type": "image",
                "image": {"id": "1"},
            },
        ],
    )
    body, headers = signed(wa)
    assert (await anonymous.post("/providers/whatsapp/webhook", content=body, headers=headers)).json()[
        "inbound_stored"
    ] == 1

    assert await inbound_rows(db, "kannel") == [(account.id, "sms", "+254711000005", "STOP please", "kannel-mo-1")]
    assert await inbound_rows(db, "aggregator") == [(account.id, "sms", "+254711000006", "Hello", "at-mo-1")]
    assert await inbound_rows(db, "whatsapp") == [(account.id, "whatsapp", "+254711000007", "Hi there", "wamid.MO1")]


async def test_an_inbound_message_without_a_valid_sender_number_is_a_422(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    kannel = await new_sender(api, "kannel")
    url = path_of(kannel["callback_urls"]["inbound"]).split("?")[0]
    assert_error(await anonymous.get(url, params={"from": "not a number", "text": "x"}), 422, "INVALID_CALLBACK")
    assert_error(await anonymous.get(url, params={"text": "x"}), 422, "INVALID_CALLBACK")


# --- segments and cost ----------------------------------------------------------------------------------------------


async def test_campaign_details_show_segments_sent_and_cost_per_currency(api: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(api)
    ids = [(await create_customer(api))["id"] for _ in range(3)]
    assert (await api.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})).status_code == 202
    for (segments, cost, currency), customer_id in zip(
        [(2, "0.8000", "KES"), (3, "1.2000", "KES"), (1, "0.0100", "USD")], ids, strict=True
    ):
        await db.execute(
            "UPDATE outbound_messages SET status = 'sent', sent_at = now(), segments = %s, cost = %s,"
            " cost_currency = %s WHERE campaign_id = %s AND customer_id = %s",
            (segments, cost, currency, campaign["id"], customer_id),
        )

    usage = (await api.get(f"/campaigns/{campaign['id']}")).json()["usage"]

    assert usage == {
        "segments": 6,
        "cost": [{"currency": "KES", "amount": "2.0000"}, {"currency": "USD", "amount": "0.0100"}],
    }


async def test_a_deployment_without_the_whatsapp_secrets_has_no_webhook(client: httpx.AsyncClient) -> None:
    body, headers = signed(notification("1", []))
    assert_error(
        await client.post("/providers/whatsapp/webhook", content=body, headers=headers), 404, "WEBHOOK_NOT_CONFIGURED"
    )
    assert_error(await client.get("/providers/whatsapp/webhook"), 404, "WEBHOOK_NOT_CONFIGURED")


async def test_the_aggregators_opt_out_callback_suppresses_the_phone_once_in_the_senders_account(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: Db, account: KeyedAccount
) -> None:
    aggregator = await new_sender(api, "aggregator")
    url = path_of(aggregator["callback_urls"]["opt_outs"])
    form = urlencode({"senderId": "ACME", "phoneNumber": "+254711000099"})

    first = await anonymous.post(url, content=form, headers=FORM)
    again = await anonymous.post(url, content=form, headers=FORM)
    wrong_token = await anonymous.post("/providers/aggregator/not-a-token/opt-outs", content=form, headers=FORM)
    no_phone = await anonymous.post(url, content=urlencode({"senderId": "ACME"}), headers=FORM)

    assert (first.status_code, first.json()["suppressed"]) == (200, 1)
    assert (again.status_code, again.json()["suppressed"]) == (200, 0)
    assert wrong_token.status_code == 401
    assert no_phone.status_code == 422 and no_phone.json()["error"]["code"]
    cur = await db.execute("SELECT account_id, channel, source FROM suppressions WHERE phone = '+254711000099'")
    assert await cur.fetchall() == [(account.id, "sms", "provider")]

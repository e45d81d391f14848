"""The Kannel sender against real Kannel: bearerbox and smsbox from Debian's package, fakesmsc as the SMSC."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes

import pytest
from dispatch.codec import encode_job
from dispatch.lifecycle import Channel
from dispatch_worker.domain import OutgoingMessage, SendStatus
from dispatch_worker.senders.kannel import KannelConfig, KannelSender
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import campaign_state, seed_campaign, statuses
from dispatch_worker_tests.kannel_gateway import BLOCKED_PREFIX, PASSWORD, USERNAME, KannelGateway, free_port
from dispatch_worker_tests.unit.test_deliver import build, drain

WRONG_PASSWORD = "not-the-password"  # noqa: S105 - a wrong password on purpose


@pytest.fixture
def config(kannel: KannelGateway) -> KannelConfig:
    """The sendsms user of the session's Kannel, sending as "Dispatch"."""
    return KannelConfig(url=kannel.sendsms_url, username=USERNAME, password=PASSWORD, sender_id="Dispatch")


@pytest.fixture
async def sender(config: KannelConfig) -> AsyncIterator[KannelSender]:
    """A Kannel sender on the session's Kannel."""
    opened = KannelSender(config)
    yield opened
    await opened.close()


def sms(message_id: int, phone: str, text: str, *, ucs2: bool = False) -> OutgoingMessage:
    """An SMS as the deliver use case hands it over."""
    return OutgoingMessage(message_id, Channel.SMS, phone, text, ucs2)


async def test_a_send_is_accepted_and_the_smsc_receives_the_text_for_the_number(
    kannel: KannelGateway, sender: KannelSender
) -> None:
    before = len(kannel.received())
    outcome = await sender.send(sms(1, "+15551230001", "Hi Ann, tea is waiting"))
    assert outcome.status is SendStatus.ACCEPTED, outcome.error
    assert outcome.provider_message_id is None  # Kannel's sendsms gives no id; receipts carry ours in the dlr-url
    received = kannel.wait_received(before + 1)
    assert received[before:] == ["Dispatch +15551230001 text Hi Ann, tea is waiting"], kannel.logs()


async def test_a_ucs2_text_reaches_the_smsc_as_ucs2(kannel: KannelGateway, sender: KannelSender) -> None:
    before = len(kannel.received())
    outcome = await sender.send(sms(2, "+15551230002", "Olá Zoë ☕", ucs2=True))
    assert outcome.ok, outcome.error
    received = kannel.wait_received(before + 1)
    assert len(received) == before + 1, kannel.logs()
    sender_id, phone, coding, payload = received[-1].split(" ", 3)
    assert (sender_id, phone, coding) == ("Dispatch", "+15551230002", "ucs-2")
    # fakesmsc prints the UTF-16BE payload URL-encoded, a space as "+"
    assert unquote_to_bytes(payload.replace("+", "%20")).decode("utf-16-be") == "Olá Zoë ☕"


async def test_a_wrong_password_is_a_permanent_refusal(config: KannelConfig) -> None:
    wrong = KannelSender(replace(config, password=WRONG_PASSWORD))
    try:
        outcome = await wrong.send(sms(3, "+15551230003", "hello"))
    finally:
        await wrong.close()
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error == "kannel 403: Authorization failed for sendsms"


async def test_a_number_kannel_blocks_is_a_permanent_refusal(kannel: KannelGateway, sender: KannelSender) -> None:
    before = len(kannel.received())
    outcome = await sender.send(sms(4, f"{BLOCKED_PREFIX}5550004", "hello"))
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error is not None and "denied by white- and/or black-lists" in outcome.error
    assert outcome.error.startswith("kannel 4")
    await asyncio.sleep(0.2)
    assert len(kannel.received()) == before


async def test_smsbox_not_listening_is_a_transient_failure(config: KannelConfig) -> None:
    closed = KannelSender(replace(config, url=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"))
    try:
        outcome = await closed.send(sms(5, "+15551230005", "hello"))
    finally:
        await closed.close()
    assert outcome.status is SendStatus.TRANSIENT
    assert outcome.error is not None and outcome.error.startswith("kannel unreachable: ConnectError")


@pytest.fixture
def receipt_server() -> Iterator[tuple[str, list[str], threading.Event]]:
    """An HTTP server on loopback that records every path Kannel's smsbox fetches, and says when one came."""
    paths: list[str] = []
    arrived = threading.Event()

    class ReceiptLog(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            arrived.set()
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceiptLog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", paths, arrived
    server.shutdown()
    server.server_close()


async def test_a_configured_dlr_url_comes_back_with_the_message_id_and_the_status(
    config: KannelConfig, receipt_server: tuple[str, list[str], threading.Event]
) -> None:
    base, paths, arrived = receipt_server
    with_receipts = KannelSender(replace(config, dlr_mask=8, dlr_url=base + "/dlr?id={message_id}&status=%d"))
    try:
        outcome = await with_receipts.send(sms(4242, "+15551230006", "receipt please"))
    finally:
        await with_receipts.close()
    assert outcome.ok, outcome.error
    await asyncio.to_thread(arrived.wait, 5.0)
    assert paths == ["/dlr?id=4242&status=8"]  # 8: delivered to the SMSC


async def test_the_deliver_use_case_sends_a_campaign_through_kannel_and_fails_a_blocked_number_at_once(
    kannel: KannelGateway, sender: KannelSender, pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 3)
    blocked = ids[0]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "UPDATE customers SET phone = %s WHERE id = (SELECT customer_id FROM outbound_messages WHERE id = %s)"
            " RETURNING phone",
            (f"{BLOCKED_PREFIX}{blocked:07d}", blocked),
        )
        assert await cur.fetchone() is not None
    before = len(kannel.received())
    deliver, queue, metrics = build(pool, sender)
    for i in ids:
        queue.put(encode_job(i))
    await drain(deliver, queue)
    rows = await statuses(pool, ids)
    assert [rows[i][:2] for i in ids] == [("failed", 0), ("sent", 0), ("sent", 0)]
    assert [(j.outbound_message_id, reason) for j, reason, _ in queue.dead] == [(blocked, "rejected")]
    assert not queue.retries
    received = kannel.wait_received(before + 2)[before:]
    assert sorted(line.split(" ", 3)[3] for line in received) == sorted(str(rows[i][2]) for i in ids[1:])
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT provider, count(*) FROM outbound_messages WHERE id = ANY(%s) AND status = 'sent' GROUP BY 1",
            (ids,),
        )
        assert await cur.fetchall() == [("kannel", 2)]
    assert await campaign_state(pool, campaign_id) == ("sent", True)
    assert metrics.sent.labels("sms")._value.get() == 2

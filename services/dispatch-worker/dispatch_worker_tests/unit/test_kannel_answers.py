"""The Kannel sender's mapping of smsbox's documented answers, and what it puts on the wire (no network)."""

from __future__ import annotations

import httpx
import pytest
from dispatch.lifecycle import Channel
from dispatch_worker.domain import OutgoingMessage, SendStatus
from dispatch_worker.senders.kannel import KannelConfig, KannelSender, classify
from dispatch_worker.settings import Settings
from pydantic import ValidationError

from dispatch_worker_tests.kannel_gateway import find_binary

PASSWORD = "s3cr3t-pass"  # noqa: S105 - a test value
CONFIG = KannelConfig(url="http://kannel.test:13013/cgi-bin/sendsms", username="dispatch", password=PASSWORD)
PLACEHOLDER = "secret"
MESSAGE = OutgoingMessage(77, Channel.SMS, "+15551230077", "Hi Ann")


@pytest.mark.parametrize(
    ("status_code", "body", "expected"),
    [
        (202, "0: Accepted for delivery", SendStatus.ACCEPTED),
        (202, "3: Queued for later delivery", SendStatus.ACCEPTED),
        (403, "Authorization failed for sendsms", SendStatus.PERMANENT),
        (400, "Number(s) has/have been denied by white- and/or black-lists.", SendStatus.PERMANENT),
        (400, "Missing receiver number, rejected", SendStatus.PERMANENT),
        (403, "Not routable. Do not try again.", SendStatus.PERMANENT),
        (503, "Temporal failure, try again later.", SendStatus.THROTTLED),
        (500, "Internal Server Error", SendStatus.TRANSIENT),
        (202, "something unexpected", SendStatus.TRANSIENT),
        (200, "", SendStatus.TRANSIENT),
    ],
)
def test_kannel_answers_map_to_their_class(status_code: int, body: str, expected: SendStatus) -> None:
    outcome = classify(status_code, body)
    assert outcome.status is expected
    if expected is not SendStatus.ACCEPTED:
        assert outcome.error is not None and outcome.error.startswith(f"kannel {status_code}: ")


async def send_recorded(config: KannelConfig, message: OutgoingMessage) -> tuple[SendStatus, list[httpx.Request]]:
    """Send through a transport that answers "0: Accepted for delivery" and records the requests."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(202, text="0: Accepted for delivery")

    sender = KannelSender(config, transport=httpx.MockTransport(answer))
    try:
        outcome = await sender.send(message)
    finally:
        await sender.close()
    return outcome.status, requests


async def test_credentials_travel_in_headers_and_no_receipt_is_asked_unless_configured() -> None:
    status, requests = await send_recorded(CONFIG, MESSAGE)
    assert status is SendStatus.ACCEPTED
    (request,) = requests
    assert request.method == "POST" and "s3cr3t" not in str(request.url)
    assert request.headers["X-Kannel-Username"] == "dispatch"
    assert request.headers["X-Kannel-Password"] == "s3cr3t-pass"
    assert request.headers["X-Kannel-To"] == "+15551230077"
    assert request.headers["X-Kannel-Coding"] == "0"
    assert request.content == b"Hi Ann"
    assert not {"x-kannel-dlr-mask", "x-kannel-dlr-url", "x-kannel-from", "x-kannel-smsc"} & set(request.headers)


async def test_a_configured_dlr_url_names_the_message_and_ucs2_text_is_sent_as_utf8_with_coding_2() -> None:
    config = KannelConfig(
        url=CONFIG.url,
        username="dispatch",
        password=PASSWORD,
        sender_id="Dispatch",
        smsc="operator-a",
        dlr_mask=31,
        dlr_url="http://receipts.test/kannel?id={message_id}&status=%d",
    )
    message = OutgoingMessage(78, Channel.SMS, "+15551230078", "Olá ☕", ucs2=True)
    _, (request,) = await send_recorded(config, message)
    assert request.headers["X-Kannel-DLR-Mask"] == "31"
    assert request.headers["X-Kannel-DLR-Url"] == "http://receipts.test/kannel?id=78&status=%d"
    assert request.headers["X-Kannel-From"] == "Dispatch" and request.headers["X-Kannel-SMSC"] == "operator-a"
    assert request.headers["X-Kannel-Coding"] == "2"
    assert request.content.decode("utf-8") == "Olá ☕"


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage(79, Channel.WHATSAPP, "+15551230079", "Hi"),
        OutgoingMessage(80, Channel.SMS, "+1555 1230080", "Hi"),  # a space would be a second recipient to smsbox
        OutgoingMessage(81, Channel.SMS, "tel:5551230081", "Hi"),
    ],
)
async def test_what_kannel_cannot_send_is_refused_permanently_without_a_request(message: OutgoingMessage) -> None:
    status, requests = await send_recorded(CONFIG, message)
    assert status is SendStatus.PERMANENT and not requests


async def test_a_timeout_is_transient() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    sender = KannelSender(CONFIG, transport=httpx.MockTransport(hang))
    outcome = await sender.send(MESSAGE)
    await sender.close()
    assert outcome.status is SendStatus.TRANSIENT and outcome.error == "kannel timeout: ReadTimeout"


def test_the_kannel_sender_needs_credentials_and_refuses_a_placeholder_outside_dev() -> None:
    with pytest.raises(ValidationError, match="KANNEL_USERNAME and KANNEL_PASSWORD"):
        Settings(sender="kannel")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(sender="kannel", kannel_username="u", kannel_password=PLACEHOLDER, deployment_environment="prod")
    settings = Settings(sender="kannel", kannel_username="u", kannel_password=PASSWORD)
    assert "s3cr3t" not in repr(settings)


def test_a_missing_kannel_binary_fails_the_tests_naming_the_apt_command() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y kannel kannel-extras"):
        find_binary("no-such-kannel-box")

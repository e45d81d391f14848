"""The aggregator and WhatsApp adapters against local servers that answer as the providers document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from dispatch.lifecycle import Channel
from dispatch_worker.domain import OutgoingMessage, SendStatus
from dispatch_worker.senders.aggregator import AggregatorConfig, AggregatorSender, parse_cost
from dispatch_worker.senders.http_client import HttpLimits
from dispatch_worker.senders.whatsapp import WhatsAppConfig, WhatsAppSender

from dispatch_worker_tests.provider_fakes import FakeAfricasTalking, FakeWhatsAppCloud, free_port, serving

NUMBER = "+254711000001"


def sms(phone: str = NUMBER, text: str = "Hi Ann, tea is 20% off") -> OutgoingMessage:
    return OutgoingMessage(id=7, channel=Channel.SMS, phone=phone, text=text)


def whatsapp(phone: str = NUMBER, *, window: bool = False, text: str = "Hi Ann,\nnew tea is in") -> OutgoingMessage:
    return OutgoingMessage(id=8, channel=Channel.WHATSAPP, phone=phone, text=text, service_window_open=window)


@pytest.fixture
def at() -> FakeAfricasTalking:
    return FakeAfricasTalking()


@pytest.fixture
async def aggregator(at: FakeAfricasTalking) -> AsyncIterator[AggregatorSender]:
    config = AggregatorConfig(
        username=at.username, api_key=at.api_key, url="http://at.test/version1/messaging", sender_id="SHOP"
    )
    sender = AggregatorSender(config, transport=httpx.ASGITransport(app=at.app()))
    yield sender
    await sender.close()


@pytest.fixture
def cloud() -> FakeWhatsAppCloud:
    return FakeWhatsAppCloud()


def wa_sender(cloud: FakeWhatsAppCloud, *, template: str | None = "campaign_update") -> WhatsAppSender:
    config = WhatsAppConfig(
        phone_number_id=cloud.phone_number_id,
        access_token=cloud.access_token,
        api_url="http://graph.test/v21.0",
        template=template,
        template_language="en_US",
    )
    return WhatsAppSender(config, transport=httpx.ASGITransport(app=cloud.app()))


async def test_an_accepted_sms_carries_the_aggregators_message_id_and_cost(
    aggregator: AggregatorSender, at: FakeAfricasTalking
) -> None:
    outcome = await aggregator.send(sms())
    assert outcome.status is SendStatus.ACCEPTED
    assert outcome.provider_message_id == "ATXid_00000001"
    assert (outcome.cost, outcome.cost_currency) == (Decimal("0.8000"), "KES")
    # the documented form fields, the key in the apiKey header and never in the form
    assert at.requests == [
        {"username": "sandbox", "to": NUMBER, "message": "Hi Ann, tea is 20% off", "from": "SHOP",
         "bulkSMSMode": "1", "enqueue": "1"}
    ]  # fmt: skip
    assert at.headers[0]["apikey"] == "at-test-key"
    assert at.headers[0]["accept"] == "application/json"


@pytest.mark.parametrize(
    ("status_code", "expected"),
    [
        (100, SendStatus.ACCEPTED),
        (102, SendStatus.ACCEPTED),
        (401, SendStatus.PERMANENT),
        (402, SendStatus.PERMANENT),
        (403, SendStatus.PERMANENT),
        (404, SendStatus.PERMANENT),
        (405, SendStatus.PERMANENT),
        (406, SendStatus.PERMANENT),
        (407, SendStatus.PERMANENT),
        (409, SendStatus.PERMANENT),
        (500, SendStatus.TRANSIENT),
        (501, SendStatus.TRANSIENT),
        (502, SendStatus.PERMANENT),
    ],
)
async def test_each_documented_recipient_status_code_maps_to_its_class(
    aggregator: AggregatorSender, at: FakeAfricasTalking, status_code: int, expected: SendStatus
) -> None:
    at.status_codes[NUMBER] = status_code
    outcome = await aggregator.send(sms())
    assert outcome.status is expected
    if expected is not SendStatus.ACCEPTED:
        assert outcome.error is not None and str(status_code) in outcome.error
        assert outcome.cost is None


@pytest.mark.parametrize(("http", "expected"), [(429, SendStatus.THROTTLED), (503, SendStatus.TRANSIENT)])
async def test_an_overloaded_aggregator_is_throttled_or_transient(
    aggregator: AggregatorSender, at: FakeAfricasTalking, http: int, expected: SendStatus
) -> None:
    at.http_status[NUMBER] = http
    assert (await aggregator.send(sms())).status is expected


async def test_a_refused_api_key_fails_for_good_without_echoing_the_key(at: FakeAfricasTalking) -> None:
    config = AggregatorConfig(username=at.username, api_key="wrong-key", url="http://at.test/version1/messaging")
    sender = AggregatorSender(config, transport=httpx.ASGITransport(app=at.app()))
    outcome = await sender.send(sms())
    await sender.close()
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error is not None and "wrong-key" not in outcome.error and "API key" in outcome.error


async def test_a_number_that_is_not_e164_is_refused_before_any_request(
    aggregator: AggregatorSender, at: FakeAfricasTalking
) -> None:
    assert (await aggregator.send(sms(phone="0711 000 001"))).status is SendStatus.PERMANENT
    assert at.requests == []


def test_costs_are_read_as_the_aggregator_writes_them() -> None:
    assert parse_cost("KES 0.8000") == (Decimal("0.8000"), "KES")
    assert parse_cost("USD 0.0150") == (Decimal("0.0150"), "USD")
    assert parse_cost("0") == (None, None)
    assert parse_cost(None) == (None, None)


async def test_the_aggregator_adapter_speaks_http_to_a_real_port_and_survives_a_dead_one(
    at: FakeAfricasTalking,
) -> None:
    with serving(at.app()) as base:
        config = AggregatorConfig(username=at.username, api_key=at.api_key, url=f"{base}/version1/messaging")
        sender = AggregatorSender(config)
        outcomes = [await sender.send(sms(phone=f"+25471100000{i}")) for i in range(3)]
        await sender.close()
    assert [o.status for o in outcomes] == [SendStatus.ACCEPTED] * 3
    dead = AggregatorSender(
        AggregatorConfig(
            username="u", api_key="k", url=f"http://127.0.0.1:{free_port()}/version1/messaging",
            limits=HttpLimits(connect_retries=1),
        )
    )  # fmt: skip
    outcome = await dead.send(sms())
    await dead.close()
    assert outcome.status is SendStatus.TRANSIENT
    assert outcome.error is not None and "unreachable" in outcome.error


async def test_outside_the_service_window_the_senders_template_goes_with_the_text_as_its_parameter(
    cloud: FakeWhatsAppCloud,
) -> None:
    sender = wa_sender(cloud)
    outcome = await sender.send(whatsapp(window=False))
    await sender.close()
    assert outcome.status is SendStatus.ACCEPTED
    assert outcome.provider_message_id == "wamid.HBgL000000000001"
    assert cloud.requests == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": NUMBER,
            "type": "template",
            "template": {
                "name": "campaign_update",
                "language": {"code": "en_US"},
                # a template parameter may hold no newline: it becomes a space
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Hi Ann, new tea is in"}]}],
            },
        }
    ]


async def test_inside_the_service_window_the_rendered_text_goes_as_a_text_message(cloud: FakeWhatsAppCloud) -> None:
    sender = wa_sender(cloud, template=None)
    outcome = await sender.send(whatsapp(window=True))
    await sender.close()
    assert outcome.status is SendStatus.ACCEPTED
    assert cloud.requests[0]["type"] == "text"
    assert cloud.requests[0]["text"] == {"preview_url": False, "body": "Hi Ann,\nnew tea is in"}


async def test_outside_the_window_without_a_template_nothing_is_sent(cloud: FakeWhatsAppCloud) -> None:
    sender = wa_sender(cloud, template=None)
    outcome = await sender.send(whatsapp(window=False))
    await sender.close()
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error is not None and "24-hour" in outcome.error
    assert cloud.requests == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (130429, SendStatus.THROTTLED),
        (131056, SendStatus.THROTTLED),
        (80007, SendStatus.THROTTLED),
        (4, SendStatus.THROTTLED),
        (613, SendStatus.THROTTLED),
        (131026, SendStatus.PERMANENT),
        (131047, SendStatus.PERMANENT),
        (131051, SendStatus.PERMANENT),
        (132000, SendStatus.PERMANENT),
        (132001, SendStatus.PERMANENT),
        (131000, SendStatus.TRANSIENT),
        (2, SendStatus.TRANSIENT),
        (987654, SendStatus.PERMANENT),  # an unknown code on a 400: the request itself is wrong
    ],
)
async def test_each_documented_cloud_api_error_code_maps_to_its_class(
    cloud: FakeWhatsAppCloud, code: int, expected: SendStatus
) -> None:
    cloud.error_codes[NUMBER] = code
    sender = wa_sender(cloud)
    outcome = await sender.send(whatsapp())
    await sender.close()
    assert outcome.status is expected
    assert outcome.error is not None and f"whatsapp {code}" in outcome.error


async def test_an_expired_token_fails_for_good_without_echoing_it(cloud: FakeWhatsAppCloud) -> None:
    config = WhatsAppConfig(
        phone_number_id=cloud.phone_number_id, access_token="stale-token", api_url="http://graph.test/v21.0",  # noqa: S106
        template="campaign_update",
    )  # fmt: skip
    sender = WhatsAppSender(config, transport=httpx.ASGITransport(app=cloud.app()))
    outcome = await sender.send(whatsapp())
    await sender.close()
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error is not None and "190" in outcome.error and "stale-token" not in outcome.error


async def test_the_whatsapp_adapter_speaks_http_to_a_real_port(cloud: FakeWhatsAppCloud) -> None:
    with serving(cloud.app()) as base:
        config = WhatsAppConfig(
            phone_number_id=cloud.phone_number_id, access_token=cloud.access_token, api_url=f"{base}/v21.0",
            template="campaign_update",
        )  # fmt: skip
        sender = WhatsAppSender(config)
        outcome = await sender.send(whatsapp())
        await sender.close()
    assert outcome.status is SendStatus.ACCEPTED and outcome.provider_message_id


async def test_an_sms_never_goes_through_whatsapp_nor_whatsapp_through_the_aggregator(
    cloud: FakeWhatsAppCloud, aggregator: AggregatorSender
) -> None:
    sender = wa_sender(cloud)
    assert (await sender.send(sms())).status is SendStatus.PERMANENT
    await sender.close()
    assert (await aggregator.send(whatsapp())).status is SendStatus.PERMANENT

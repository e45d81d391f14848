"""Senders rows become adapters: credentials from the variable the row names, one instance per unchanged row."""

from __future__ import annotations

from dispatch.lifecycle import Channel, SenderRow
from dispatch_worker.domain import OutgoingMessage, SendStatus
from dispatch_worker.senders.aggregator import AggregatorSender
from dispatch_worker.senders.kannel import KannelSender
from dispatch_worker.senders.registry import AdapterRegistry, UnusableSender
from dispatch_worker.senders.whatsapp import WhatsAppSender
from dispatch_worker.settings import Settings
from pydantic import AnyHttpUrl

from dispatch_worker_tests.fakes import ScriptedSender


def row(provider: str, credentials_ref: str | None = "SENDER_CREDENTIALS", **changes: object) -> SenderRow:
    fields: dict[str, object] = {
        "id": 3,
        "channel": Channel.WHATSAPP if provider == "whatsapp" else Channel.SMS,
        "provider": provider,
        "address": "SHOP",
        "credentials_ref": credentials_ref,
        "throughput_per_s": 80.0,
        "callback_token": "tok-123",
        "whatsapp_template": "campaign_update" if provider == "whatsapp" else None,
        "whatsapp_template_language": "pt_BR" if provider == "whatsapp" else None,
    }
    return SenderRow(**{**fields, **changes})  # type: ignore[arg-type]


async def test_a_kannel_sender_asks_for_receipts_at_its_own_callback_url() -> None:
    settings = Settings(callback_base_url=AnyHttpUrl("http://campaign-api:8080"))
    registry = AdapterRegistry(settings, ScriptedSender(), environ={"SENDER_CREDENTIALS": "dispatch:s3cret"})
    adapter = registry.get(row("kannel"))
    assert isinstance(adapter, KannelSender)
    config = adapter.config
    assert (config.username, config.password, config.sender_id, config.dlr_mask) == ("dispatch", "s3cret", "SHOP", 19)
    assert config.dlr_url == (
        "http://campaign-api:8080/providers/kannel/tok-123/receipts?message_id={message_id}&type=%d&reply=%A&ts=%T"
    )
    assert "s3cret" not in repr(config)
    await registry.close()


async def test_one_adapter_serves_a_sender_until_its_row_changes() -> None:
    registry = AdapterRegistry(Settings(), ScriptedSender(), environ={"SENDER_CREDENTIALS": "sandbox:key"})
    first = registry.get(row("aggregator"))
    assert isinstance(first, AggregatorSender)
    assert registry.get(row("aggregator")) is first
    changed = registry.get(row("aggregator", address="OTHER"))
    assert changed is not first and isinstance(changed, AggregatorSender)
    assert changed.config.sender_id == "OTHER"
    await registry.close()


async def test_a_whatsapp_sender_sends_its_template_in_its_language() -> None:
    registry = AdapterRegistry(Settings(), ScriptedSender(), environ={"SENDER_CREDENTIALS": "EAAG-token"})
    adapter = registry.get(row("whatsapp"))
    assert isinstance(adapter, WhatsAppSender)
    assert (adapter.config.phone_number_id, adapter.config.access_token) == ("SHOP", "EAAG-token")
    assert (adapter.config.template, adapter.config.template_language) == ("campaign_update", "pt_BR")
    await registry.close()


async def test_malformed_credentials_refuse_every_message_naming_the_variable_and_never_its_value() -> None:
    registry = AdapterRegistry(Settings(), ScriptedSender(), environ={"SENDER_CREDENTIALS": "no-colon-here"})
    adapter = registry.get(row("kannel"))
    assert isinstance(adapter, UnusableSender)
    outcome = await adapter.send(OutgoingMessage(1, Channel.SMS, "+15550000001", "hi"))
    assert outcome.status is SendStatus.PERMANENT
    assert outcome.error is not None and "SENDER_CREDENTIALS" in outcome.error and "no-colon-here" not in outcome.error
    assert isinstance(registry.get(row("whatsapp", credentials_ref=None)), UnusableSender)


async def test_every_mock_sender_shares_the_one_mock_adapter() -> None:
    mock = ScriptedSender(provider="mock")
    registry = AdapterRegistry(Settings(), mock, environ={})
    assert registry.get(row("mock", credentials_ref=None)) is mock
    await registry.close()
    assert not mock.closed  # its owner closes it

"""Senders as the API sees them: providers, which channel each serves, the sender-id rules, and callback URLs.

A sender is what a message goes out through: a provider adapter (mock, Kannel, an HTTP aggregator, WhatsApp Cloud
API), the address the recipient sees it come from, the NAME of the secret holding its credentials (never the
credentials), its throughput limit, and the random token in its callback URLs. Which sender a campaign uses: the
campaign's own `sender_id`, else the account's default sender for the channel, else the platform's configured
sender (the dispatch-worker's `SENDER` settings).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from dispatch.lifecycle import Channel
from dispatch.send_windows import SendWindow

from campaign_api.domain import KEEP, Keep
from campaign_api.errors import Conflict, InvalidInput, NotFound


class Provider(StrEnum):
    """Mirrors senders_provider_check: the adapter that sends through a sender."""

    MOCK = "mock"
    KANNEL = "kannel"
    AGGREGATOR = "aggregator"
    WHATSAPP = "whatsapp"


# which channels each provider serves
CHANNELS_OF: Final = {
    Provider.MOCK: frozenset({Channel.SMS, Channel.WHATSAPP}),
    Provider.KANNEL: frozenset({Channel.SMS}),
    Provider.AGGREGATOR: frozenset({Channel.SMS}),
    Provider.WHATSAPP: frozenset({Channel.WHATSAPP}),
}
E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
# an SMS alphanumeric sender id: at most 11 characters (GSM 03.40's TP-OA holds 11 GSM-7 characters), letters and
# digits, at least one letter (all digits is a number or a short code), no spaces at the ends
ALPHANUMERIC_ID: Final = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?")
SHORT_CODE: Final = re.compile(r"[0-9]{3,8}")
# a WhatsApp Business phone number id (Graph API ids are digits)
PHONE_NUMBER_ID: Final = re.compile(r"[0-9]{5,30}")


class SenderNotFound(NotFound):
    code = "SENDER_NOT_FOUND"

    def __init__(self, sender_id: int) -> None:
        super().__init__(f"Sender with ID {sender_id} not found")


class InvalidSender(InvalidInput):
    code = "INVALID_SENDER"


class SenderNameExists(Conflict):
    code = "SENDER_NAME_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(f"A sender named {name!r} already exists in this account")


class SenderInUse(Conflict):
    code = "SENDER_IN_USE"

    def __init__(self, sender_id: int) -> None:
        super().__init__(f"Sender {sender_id} is named by a campaign; point those campaigns elsewhere first")


class UnknownSender(InvalidInput):
    code = "UNKNOWN_SENDER"

    def __init__(self, sender_id: int) -> None:
        super().__init__(f"body.sender_id: there is no sender {sender_id} in this account")


class SenderChannelMismatch(InvalidInput):
    code = "SENDER_CHANNEL_MISMATCH"

    def __init__(self, sender_id: int, sender_channel: str, channel: str) -> None:
        super().__init__(f"body.sender_id: sender {sender_id} sends {sender_channel}, the campaign is {channel}")


def check_channel(provider: Provider, channel: Channel) -> None:
    """The provider must serve the channel (Kannel and the aggregator SMS, WhatsApp WhatsApp, the mock both)."""
    if channel not in CHANNELS_OF[provider]:
        allowed = ", ".join(sorted(CHANNELS_OF[provider]))
        raise InvalidSender(f"body.channel: provider {provider} sends {allowed}, not {channel}")


def check_address(provider: Provider, channel: Channel, address: str) -> None:
    """What the recipient sees the message come from, by channel: SMS an E.164 number, a short code or an
    alphanumeric sender id of at most 11 characters; WhatsApp Cloud API its phone number id (the mock: E.164 too)."""
    if channel is Channel.SMS:
        if E164.fullmatch(address) or SHORT_CODE.fullmatch(address) or ALPHANUMERIC_ID.fullmatch(address):
            return
        raise InvalidSender(
            "body.address: an SMS sender is an E.164 number (+254700000001), a short code of 3-8 digits, or an"
            " alphanumeric sender id of 1-11 letters, digits and inner spaces with at least one letter"
        )
    if provider is Provider.WHATSAPP:
        if PHONE_NUMBER_ID.fullmatch(address):
            return
        raise InvalidSender("body.address: a WhatsApp Cloud API sender is its phone number id (digits)")
    if not E164.fullmatch(address):
        raise InvalidSender("body.address: a WhatsApp sender is an E.164 number (+254700000001)")


def new_callback_token() -> str:
    """The secret in a sender's callback URLs: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class SenderRow:
    """A sender as stored; the callback token is its callback URLs' secret, shown only inside those URLs."""

    id: int
    name: str
    channel: Channel
    provider: Provider
    address: str
    credentials_ref: str | None
    throughput_per_s: Decimal
    is_default: bool
    callback_token: str
    created_at: datetime
    updated_at: datetime
    # its own window for promotional messages, inside the account's (None: only the account's applies)
    window: SendWindow | None = None
    window_preset: str | None = None


@dataclass(frozen=True, slots=True)
class NewSender:
    name: str
    channel: Channel
    provider: Provider
    address: str
    credentials_ref: str | None = None
    throughput_per_s: Decimal = Decimal(80)
    is_default: bool = False
    window: SendWindow | None = None
    window_preset: str | None = None

    def check(self) -> None:
        """The channel the provider serves, and the address rules of the channel."""
        check_channel(self.provider, self.channel)
        check_address(self.provider, self.channel, self.address)


@dataclass(frozen=True, slots=True)
class SenderChanges:
    """A partial update: provider and channel are fixed once made (the callback URLs and campaigns depend on them)."""

    name: str | Keep = KEEP
    address: str | Keep = KEEP
    credentials_ref: str | Keep | None = KEEP
    throughput_per_s: Decimal | Keep = KEEP
    is_default: bool | Keep = KEEP
    # (window, preset name); (None, None) removes the sender's window
    window: tuple[SendWindow | None, str | None] | Keep = KEEP
    # a fresh callback token: the old URLs stop working at once (a leaked URL is revoked this way)
    rotate_callback_token: bool = False


def callback_urls(base_url: str, sender: SenderRow) -> dict[str, str]:
    """The URLs to paste into the provider's console (or Kannel's configuration) for this sender."""
    base = base_url.rstrip("/")
    token = sender.callback_token
    if sender.provider is Provider.KANNEL:
        return {
            # the worker puts each message's id in; Kannel fills %d (type), %A (SMSC reply), %T (time)
            "delivery_receipts": f"{base}/providers/kannel/{token}/receipts"
            "?message_id={message_id}&type=%d&reply=%A&ts=%T",
            "inbound": f"{base}/providers/kannel/{token}/inbound?from=%p&to=%P&text=%a&ts=%T&id=%I",
        }
    if sender.provider is Provider.AGGREGATOR:
        return {
            "delivery_receipts": f"{base}/providers/aggregator/{token}/receipts",
            "inbound": f"{base}/providers/aggregator/{token}/inbound",
            "opt_outs": f"{base}/providers/aggregator/{token}/opt-outs",
        }
    if sender.provider is Provider.WHATSAPP:
        # one webhook per Meta app: receipts and messages are routed by metadata.phone_number_id = address
        return {"webhook": f"{base}/providers/whatsapp/webhook"}
    return {}

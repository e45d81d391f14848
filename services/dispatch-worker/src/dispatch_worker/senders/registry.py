"""Senders as data: a row of the senders table becomes one adapter instance, kept for as long as the row is unchanged.

Credentials are read from the environment variable the row names (credentials_ref), never stored, logged or put in
an error: kannel and aggregator take "username:secret", whatsapp the access token, the mock nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Final

from dispatch.lifecycle import SenderRow

from dispatch_worker.domain import OutgoingMessage, SendOutcome
from dispatch_worker.ports import Sender
from dispatch_worker.senders.aggregator import AggregatorConfig, AggregatorSender
from dispatch_worker.senders.http_client import HttpLimits
from dispatch_worker.senders.kannel import KannelConfig, KannelSender
from dispatch_worker.senders.whatsapp import WhatsAppConfig, WhatsAppSender
from dispatch_worker.settings import Settings

log = logging.getLogger(__name__)

# Kannel's delivery report types asked for: 1 delivered, 2 undelivered, 16 rejected by the SMSC
KANNEL_DLR_MASK: Final = 19
KANNEL_RECEIPT_QUERY: Final = "?message_id={message_id}&type=%d&reply=%A&ts=%T"


class UnusableSender:
    """A sender whose configuration cannot work (credentials missing or malformed): every message is refused for
    good, naming the variable to set and never its value."""

    def __init__(self, provider: str, reason: str) -> None:
        """Answer `reason` to every send."""
        self.provider = provider
        self.reason = reason

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """Refuse: no retry can help until an operator fixes the sender."""
        return SendOutcome.permanent(self.reason)

    async def close(self) -> None:
        """Nothing to release."""


class SenderMisconfigured(ValueError):
    """The row cannot make an adapter; the message says why without any secret."""


def split_credentials(row: SenderRow, environ: Mapping[str, str]) -> tuple[str, str]:
    """The "username:secret" the row's credentials_ref names."""
    value = read_credentials(row, environ)
    username, sep, secret = value.partition(":")
    if not sep or not username or not secret:
        raise SenderMisconfigured(f"sender {row.id}: {row.credentials_ref} must hold 'username:secret'")
    return username, secret


def read_credentials(row: SenderRow, environ: Mapping[str, str]) -> str:
    """The value of the environment variable the row names."""
    if not row.credentials_ref:
        raise SenderMisconfigured(f"sender {row.id}: provider {row.provider} needs credentials_ref")
    value = environ.get(row.credentials_ref, "")
    if not value:
        raise SenderMisconfigured(f"sender {row.id}: environment variable {row.credentials_ref} is not set")
    return value


class AdapterRegistry:
    """One adapter per sender, built on first use and rebuilt when its row changes; closed at shutdown."""

    def __init__(self, settings: Settings, mock: Sender, environ: Mapping[str, str] | None = None) -> None:
        """`mock` serves every sender whose provider is the mock; `environ` holds the credentials (os.environ)."""
        self.settings = settings
        self.mock = mock
        self.environ = os.environ if environ is None else environ
        self._adapters: dict[int, tuple[SenderRow, Sender]] = {}
        self._retired: list[Sender] = []

    def get(self, row: SenderRow) -> Sender:
        """The adapter of this sender as the row now describes it."""
        held = self._adapters.get(row.id)
        if held is not None and held[0] == row:
            return held[1]
        if held is not None:
            self._retired.append(held[1])  # a send may still use it: closed at shutdown
        adapter = self._build(row)
        self._adapters[row.id] = (row, adapter)
        return adapter

    def _build(self, row: SenderRow) -> Sender:
        try:
            return self._adapter(row)
        except SenderMisconfigured as exc:
            log.warning("sender cannot send", extra={"sender_id": row.id, "reason": str(exc)})
            return UnusableSender(row.provider, str(exc))

    def _adapter(self, row: SenderRow) -> Sender:
        s = self.settings
        limits = HttpLimits(
            timeout_s=s.provider_timeout_s,
            connect_timeout_s=s.provider_connect_timeout_s,
            max_connections=s.provider_max_connections,
            connect_retries=s.provider_connect_retries,
        )
        if row.provider == "mock":
            return self.mock
        if row.provider == "kannel":
            username, password = split_credentials(row, self.environ)
            dlr_url = None
            if s.callback_base_url is not None:
                base = str(s.callback_base_url).rstrip("/")
                dlr_url = f"{base}/providers/kannel/{row.callback_token}/receipts{KANNEL_RECEIPT_QUERY}"
            return KannelSender(
                KannelConfig(
                    url=str(s.kannel_url),
                    username=username,
                    password=password,
                    sender_id=row.address,
                    smsc=s.kannel_smsc,
                    dlr_mask=(s.kannel_dlr_mask or KANNEL_DLR_MASK) if dlr_url else None,
                    dlr_url=dlr_url,
                    connect_timeout_s=limits.connect_timeout_s,
                    timeout_s=limits.timeout_s,
                    max_connections=limits.max_connections,
                )
            )
        if row.provider == "aggregator":
            username, api_key = split_credentials(row, self.environ)
            return AggregatorSender(
                AggregatorConfig(
                    username=username, api_key=api_key, url=str(s.aggregator_url), sender_id=row.address, limits=limits
                )
            )
        if row.provider == "whatsapp":
            return WhatsAppSender(
                WhatsAppConfig(
                    phone_number_id=row.address,
                    access_token=read_credentials(row, self.environ),
                    api_url=str(s.whatsapp_api_url),
                    template=row.whatsapp_template,
                    template_language=row.whatsapp_template_language or "en",
                    limits=limits,
                )
            )
        raise SenderMisconfigured(f"sender {row.id}: unknown provider {row.provider!r}")

    async def close(self) -> None:
        """Close every adapter built (the shared mock is its owner's to close)."""
        adapters = [a for _, a in self._adapters.values()] + self._retired
        self._adapters.clear()
        self._retired.clear()
        for adapter in {id(a): a for a in adapters if a is not self.mock}.values():
            await adapter.close()

"""What providers call back with: delivery receipts put on their messages, and inbound messages stored.

The callback URL's token (or, for WhatsApp, the phone number id of a signed webhook) names the sender, and so the
account: every write then runs in that account's transaction, under row-level security, as the API's requests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import psycopg
from dispatch.lifecycle import Channel

from campaign_api import inbound
from campaign_api.channels import Provider
from campaign_api.compliance import SuppressionSource
from campaign_api.errors import Unauthenticated
from campaign_api.metrics import ApiMetrics
from campaign_api.receipts import Receipt
from campaign_api.repositories import delivery_receipts, senders
from campaign_api.repositories.connection import Connection, Pool, account_transaction
from campaign_api.suppressions import add_suppression

log = logging.getLogger(__name__)


class CallbackUnauthenticated(Unauthenticated):
    """The callback's token (or signature) names no sender of that provider (401, no Bearer challenge)."""

    headers: Mapping[str, str] = MappingProxyType({})


class ReceiptOutcome(StrEnum):
    APPLIED = "applied"  # the message now carries it
    UNCHANGED = "unchanged"  # stored; the message already had as strong a status (or it is intermediate)
    WAITING = "waiting"  # no message known yet: kept, applied when the worker stamps it
    DUPLICATE = "duplicate"  # the same report again: nothing changed


@dataclass(frozen=True, slots=True)
class CallbackSender:
    """The sender a callback is for."""

    id: int
    account_id: int
    provider: Provider


@dataclass(frozen=True, slots=True)
class ResolveSender:
    pool: Pool

    async def by_token(self, token: str, provider: Provider) -> CallbackSender:
        """The sender whose callback URLs carry `token`, which must be of `provider`; else 401."""
        if not 16 <= len(token) <= 200:
            raise CallbackUnauthenticated("unknown callback token")
        async with self.pool.connection() as conn:
            found = await senders.by_callback_token(conn, token)
        if found is None or found[2] is not provider:
            raise CallbackUnauthenticated("unknown callback token")
        return CallbackSender(*found)

    async def by_phone_number_id(self, phone_number_id: str) -> CallbackSender | None:
        """The WhatsApp sender with this phone number id, or None."""
        async with self.pool.connection() as conn:
            found = await senders.by_phone_number_id(conn, phone_number_id)
        return None if found is None else CallbackSender(*found)


@dataclass(frozen=True, slots=True)
class RecordReceipts:
    pool: Pool
    metrics: ApiMetrics

    async def __call__(self, sender: CallbackSender, receipts: Sequence[Receipt]) -> list[ReceiptOutcome]:
        """Store each receipt once and apply it to its message when the message is known; one transaction."""
        outcomes: list[ReceiptOutcome] = []
        async with account_transaction(self.pool, sender.account_id) as conn:
            for receipt in receipts:
                outcomes.append(await self._record(conn, sender, receipt))
        for receipt, outcome in zip(receipts, outcomes, strict=True):
            status = receipt.delivery_status.value if receipt.delivery_status else "intermediate"
            self.metrics.delivery_receipts.labels(receipt.provider.value, status, outcome.value).inc()
            if outcome is ReceiptOutcome.WAITING:
                self.metrics.delivery_receipts_unmatched.labels(receipt.provider.value).inc()
                # the provider's message id is not personal data; the phone is never logged
                log.info(
                    "delivery receipt for no known message yet: kept until its message appears",
                    extra={
                        "provider": receipt.provider.value,
                        "provider_message_id": receipt.provider_message_id,
                        "sender_id": sender.id,
                        "delivery_status": status,
                    },
                )
        return outcomes

    async def _record(self, conn: Connection, sender: CallbackSender, receipt: Receipt) -> ReceiptOutcome:
        stored = await delivery_receipts.insert(conn, sender.id, receipt)
        if stored is None:
            return ReceiptOutcome.DUPLICATE
        matched = await delivery_receipts.find_message(conn, receipt)
        if matched is None:
            return ReceiptOutcome.WAITING
        if not await delivery_receipts.apply(conn, stored, matched, receipt):
            return ReceiptOutcome.UNCHANGED
        if matched.sent_at is not None and receipt.delivery_status is not None:
            happened = receipt.occurred_at or stored.received_at
            self.metrics.delivery_receipt_latency.labels(receipt.provider.value, receipt.delivery_status.value).observe(
                max(0.0, (happened - matched.sent_at).total_seconds())
            )
        return ReceiptOutcome.APPLIED


@dataclass(frozen=True, slots=True)
class RecordInbound:
    pool: Pool
    metrics: ApiMetrics

    async def __call__(self, sender: CallbackSender, messages: Sequence[inbound.InboundMessage]) -> int:
        """Store each inbound message in the sender's account (inbound.record); how many were new."""
        stored = 0
        async with account_transaction(self.pool, sender.account_id) as conn:
            for message in messages:
                if await inbound.record(conn, message) is not None:
                    stored += 1
        duplicates = len(messages) - stored
        if stored:
            self.metrics.inbound_messages.labels(sender.provider.value, "stored").inc(stored)
        if duplicates:
            self.metrics.inbound_messages.labels(sender.provider.value, "duplicate").inc(duplicates)
        return stored


@dataclass(frozen=True, slots=True)
class RecordOptOut:
    """A provider's opt-out notification (Africa's Talking's bulk SMS opt-out callback): the phone is suppressed on
    SMS in the sender's account, with source 'provider'."""

    pool: Pool
    metrics: ApiMetrics

    async def __call__(self, sender: CallbackSender, phone: str) -> bool:
        """Suppress the phone; False when it already was (a repeated callback changes nothing)."""
        async with account_transaction(self.pool, sender.account_id) as conn:
            added = await add_suppression(
                conn, phone, Channel.SMS, f"opted out through {sender.provider.value}", SuppressionSource.PROVIDER
            )
        return added is not None


@dataclass(frozen=True, slots=True)
class SweepReceipts:
    """Applies waiting receipts whose message became known while both transactions overlapped."""

    system_pool: Pool
    max_age_s: float

    async def __call__(self) -> int:
        async with self.system_pool.connection() as conn:
            return await delivery_receipts.sweep(conn, self.max_age_s)


@contextlib.asynccontextmanager
async def sweeping_receipts(sweep: SweepReceipts, interval_s: float) -> AsyncIterator[None]:
    """Run the sweep on a timer while the block runs (off the request path, over the owner's pool)."""

    async def forever() -> None:
        while True:
            try:
                changed = await sweep()
                if changed:
                    log.info("waiting delivery receipts applied", extra={"messages": changed})
            except psycopg.Error as exc:
                log.warning("delivery receipt sweep failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(forever(), name="receipt-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

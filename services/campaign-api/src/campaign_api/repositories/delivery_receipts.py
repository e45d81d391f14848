"""Every SQL statement on delivery_receipts, and the receipt columns of outbound_messages they set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from campaign_api.channels import Provider
from campaign_api.receipts import Receipt
from campaign_api.repositories.connection import Connection

# the same report twice (same message, same provider status) is stored once: None answers "duplicate"
INSERT_RECEIPT: Final = """
    INSERT INTO delivery_receipts (sender_id, provider, provider_message_id, provider_status, delivery_status,
                                   delivery_code, delivery_reason, occurred_at)
    VALUES (%(sender_id)s, %(provider)s, %(provider_message_id)s, %(provider_status)s, %(delivery_status)s,
            %(code)s, %(reason)s, %(occurred_at)s)
    ON CONFLICT (account_id, provider, provider_message_id, provider_status) DO NOTHING
    RETURNING id, received_at
"""
# the message a receipt is about, once the worker stamped it: by (provider, provider_message_id) through
# outbound_messages_provider_message_idx, and for Kannel (no provider id) by our own id
FIND_MESSAGE: Final = """
    SELECT id, sent_at FROM outbound_messages WHERE provider = %(provider)s AND provider_message_id = %(pmid)s
"""
FIND_KANNEL_MESSAGE: Final = "SELECT id, sent_at FROM outbound_messages WHERE id = %(id)s AND provider = 'kannel'"
# only ever a stronger status (delivery_rank): a late "delivered" after "read" changes nothing
APPLY_TO_MESSAGE: Final = """
    UPDATE outbound_messages
    SET delivery_status = %(status)s, delivery_code = %(code)s, delivery_reason = %(reason)s,
        delivered_at = coalesce(%(occurred_at)s, %(received_at)s), receipt_received_at = %(received_at)s
    WHERE id = %(id)s AND delivery_rank(%(status)s) > delivery_rank(delivery_status)
    RETURNING id
"""
MARK_APPLIED: Final = (
    "UPDATE delivery_receipts SET outbound_message_id = %(message_id)s, applied_at = now() WHERE id = %(id)s"
)
SWEEP: Final = "SELECT sweep_waiting_receipts(make_interval(secs => %(max_age_s)s))"


@dataclass(frozen=True, slots=True)
class Stored:
    receipt_id: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Matched:
    message_id: int
    sent_at: datetime | None


async def insert(conn: Connection, sender_id: int, receipt: Receipt) -> Stored | None:
    """Store the receipt in the transaction's account; None when the same report is already stored."""
    cur = await conn.execute(
        INSERT_RECEIPT,
        {
            "sender_id": sender_id,
            "provider": receipt.provider.value,
            "provider_message_id": receipt.provider_message_id,
            "provider_status": receipt.provider_status,
            "delivery_status": None if receipt.delivery_status is None else receipt.delivery_status.value,
            "code": receipt.code,
            "reason": receipt.reason,
            "occurred_at": receipt.occurred_at,
        },
    )
    row = await cur.fetchone()
    return None if row is None else Stored(int(row[0]), row[1])


async def find_message(conn: Connection, receipt: Receipt) -> Matched | None:
    """The account's message the receipt is about, when the worker has stamped its provider (and id)."""
    if receipt.provider is Provider.KANNEL:
        cur = await conn.execute(FIND_KANNEL_MESSAGE, {"id": int(receipt.provider_message_id)})
    else:
        cur = await conn.execute(
            FIND_MESSAGE, {"provider": receipt.provider.value, "pmid": receipt.provider_message_id}
        )
    row = await cur.fetchone()
    return None if row is None else Matched(int(row[0]), row[1])


async def apply(conn: Connection, stored: Stored, matched: Matched, receipt: Receipt) -> bool:
    """Mark the receipt applied and put its status on the message when stronger; True when the message changed."""
    await conn.execute(MARK_APPLIED, {"message_id": matched.message_id, "id": stored.receipt_id})
    if receipt.delivery_status is None:
        return False
    cur = await conn.execute(
        APPLY_TO_MESSAGE,
        {
            "id": matched.message_id,
            "status": receipt.delivery_status.value,
            "code": receipt.code,
            "reason": receipt.reason,
            "occurred_at": receipt.occurred_at,
            "received_at": stored.received_at,
        },
    )
    return await cur.fetchone() is not None


async def sweep(conn: Connection, max_age_s: float) -> int:
    """Apply recent waiting receipts whose message is now known (every account: the owner's pool)."""
    cur = await conn.execute(SWEEP, {"max_age_s": max_age_s})
    row = await cur.fetchone()
    return int(row[0]) if row else 0

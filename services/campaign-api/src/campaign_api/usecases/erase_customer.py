"""Erase a customer (DELETE /customers/{id}): the right to erasure, with every campaign count kept."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.errors import CustomerNotFound
from campaign_api.repositories import audit_events, customers
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class EraseCustomer:
    pool: Pool

    async def __call__(self, caller: Caller, customer_id: int) -> None:
        """Remove the person's phone, names and attributes and the text of their messages, in one transaction with
        its audit row; the row and its messages stay, so campaign totals do not move (a message still pending ends
        cancelled: nobody is left to send it to)."""
        async with account_transaction(self.pool, caller.account) as conn:
            if not await customers.erase(conn, customer_id):
                raise CustomerNotFound(customer_id)
            cancelled = await outbound_messages.cancel_pending_for_customer(conn, customer_id)
            redacted = await outbound_messages.redact_customer(conn, customer_id)
            changes = {"messages_redacted": redacted, "messages_cancelled": cancelled}
            await audit_events.record(conn, caller, "customer.erased", "customer", customer_id, changes)

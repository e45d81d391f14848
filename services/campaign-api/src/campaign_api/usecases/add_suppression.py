"""Suppress a phone by API (source 'api'): the send leaves it out and the worker skips its unsent messages."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.lifecycle import Channel

from campaign_api.accounts import Caller
from campaign_api.compliance import Suppression, SuppressionSource
from campaign_api.errors import SuppressionExists
from campaign_api.repositories import audit_events
from campaign_api.repositories.connection import Pool, account_transaction
from campaign_api.suppressions import add_suppression


@dataclass(frozen=True, slots=True)
class AddSuppression:
    pool: Pool

    async def __call__(self, caller: Caller, phone: str, channel: Channel | None, reason: str) -> Suppression:
        """Store the opt-out; 409 when the phone is already suppressed on that channel (or every channel)."""
        async with account_transaction(self.pool, caller.account) as conn:
            created = await add_suppression(conn, phone, channel, reason, SuppressionSource.API)
            if created is not None:
                # the phone is personal data: the audit row names the suppression, not the number
                changes = {"channel": None if channel is None else str(channel), "source": "api"}
                await audit_events.record(conn, caller, "suppression.created", "suppression", created.id, changes)
        if created is None:
            raise SuppressionExists(None if channel is None else str(channel))
        return created

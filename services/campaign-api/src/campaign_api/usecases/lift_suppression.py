"""Lift one suppression: the phone receives the account's messages again from the next send."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.compliance import Suppression
from campaign_api.errors import SuppressionNotFound
from campaign_api.repositories import audit_events, suppressions
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class LiftSuppression:
    pool: Pool

    async def __call__(self, caller: Caller, suppression_id: int) -> Suppression:
        """Delete it and return what it was; 404 when the account has no such suppression."""
        async with account_transaction(self.pool, caller.account) as conn:
            lifted = await suppressions.delete(conn, suppression_id)
            if lifted is not None:
                changes = {"channel": None if lifted.channel is None else str(lifted.channel)}
                await audit_events.record(conn, caller, "suppression.deleted", "suppression", lifted.id, changes)
        if lifted is None:
            raise SuppressionNotFound(suppression_id)
        return lifted

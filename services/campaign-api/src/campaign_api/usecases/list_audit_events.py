"""The caller's account's audit trail, newest first, in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import AuditEvent, Caller
from campaign_api.repositories import audit_events
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListAuditEvents:
    pool: Pool

    async def __call__(self, caller: Caller, before_id: int | None, limit: int) -> list[AuditEvent]:
        async with account_transaction(self.pool, caller.account) as conn:
            return await audit_events.list_page(conn, before_id, limit)

"""The caller's account's compliance settings (the defaults until it changes them)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.compliance import ComplianceSettings
from campaign_api.repositories import compliance_settings
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class GetComplianceSettings:
    pool: Pool

    async def __call__(self, caller: Caller) -> ComplianceSettings:
        async with account_transaction(self.pool, caller.account) as conn:
            return await compliance_settings.get(conn)

"""Replace the caller's account's compliance settings; the worker applies a new window from its next batch. A new
window must meet the window of every sender that has one of its own (else their promotional messages never go)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.compliance import ComplianceSettings, check_windows_meet
from campaign_api.ports import Clock
from campaign_api.repositories import audit_events, compliance_settings, senders
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class PutComplianceSettings:
    pool: Pool
    clock: Clock

    async def __call__(self, caller: Caller, settings: ComplianceSettings) -> ComplianceSettings:
        async with account_transaction(self.pool, caller.account) as conn:
            if settings.window is not None:
                now = self.clock()
                for sender in await senders.with_windows(conn):
                    check_windows_meet(
                        "body.send_window", f"{sender.name!r} (id {sender.id})", sender.window, settings.window, now
                    )
            stored = await compliance_settings.put(conn, settings)
            window = stored.window
            changes = {
                "send_window": None if window is None else f"{window.start:%H:%M}-{window.end:%H:%M} {window.zone.key}",
                "window_preset": stored.window_preset,
                "opt_out_required": stored.opt_out_required,
                "opt_out_text": stored.opt_out_text,
                "stop_keywords": list(stored.stop_keywords),
                "start_keywords": list(stored.start_keywords),
            }
            await audit_events.record(conn, caller, "compliance.updated", "account", caller.account, changes)
            return stored

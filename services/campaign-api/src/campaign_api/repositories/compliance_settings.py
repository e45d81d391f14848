"""Every SQL statement on account_compliance: one row per account that changed its defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from dispatch.send_windows import SendWindow

from campaign_api.compliance import ComplianceSettings
from campaign_api.repositories.connection import Connection

COLUMNS: Final = (
    "window_preset, window_start, window_end, window_time_zone, opt_out_required, opt_out_text, stop_keywords,"
    " start_keywords, updated_at"
)

# the transaction's account (row-level security, and the explicit filter for the owner's connections)
SELECT_SETTINGS: Final = f"""
    SELECT {COLUMNS} FROM account_compliance WHERE account_id = current_setting('app.account_id')::bigint
"""

UPSERT_SETTINGS: Final = f"""
    INSERT INTO account_compliance (window_preset, window_start, window_end, window_time_zone, opt_out_required,
                                    opt_out_text, stop_keywords, start_keywords)
    VALUES (%(window_preset)s, %(window_start)s, %(window_end)s, %(window_time_zone)s, %(opt_out_required)s,
            %(opt_out_text)s, %(stop_keywords)s, %(start_keywords)s)
    ON CONFLICT (account_id) DO UPDATE
    SET window_preset = EXCLUDED.window_preset, window_start = EXCLUDED.window_start,
        window_end = EXCLUDED.window_end, window_time_zone = EXCLUDED.window_time_zone,
        opt_out_required = EXCLUDED.opt_out_required, opt_out_text = EXCLUDED.opt_out_text,
        stop_keywords = EXCLUDED.stop_keywords, start_keywords = EXCLUDED.start_keywords, updated_at = now()
    RETURNING {COLUMNS}
"""


def settings_from_row(row: Sequence[Any]) -> ComplianceSettings:
    preset, start, end, zone, required, text, stop, start_words, updated_at = row
    window = SendWindow(start, end, ZoneInfo(zone)) if zone is not None else None
    return ComplianceSettings(
        window=window,
        window_preset=preset,
        opt_out_required=bool(required),
        opt_out_text=text,
        stop_keywords=tuple(stop),
        start_keywords=tuple(start_words),
        updated_at=updated_at,
    )


async def get(conn: Connection) -> ComplianceSettings:
    """The transaction's account's settings (the defaults when it never changed them)."""
    cur = await conn.execute(SELECT_SETTINGS)
    row = await cur.fetchone()
    return ComplianceSettings() if row is None else settings_from_row(row)


async def put(conn: Connection, settings: ComplianceSettings) -> ComplianceSettings:
    """Replace the transaction's account's settings; return them as stored."""
    window = settings.window
    cur = await conn.execute(
        UPSERT_SETTINGS,
        {
            "window_preset": settings.window_preset if window else None,
            "window_start": window.start if window else None,
            "window_end": window.end if window else None,
            "window_time_zone": window.zone.key if window else None,
            "opt_out_required": settings.opt_out_required,
            "opt_out_text": settings.opt_out_text,
            "stop_keywords": list(settings.stop_keywords),
            "start_keywords": list(settings.start_keywords),
        },
    )
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return settings_from_row(row)

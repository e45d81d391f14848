"""Rows written straight into a test database belong to an account, as the API's do."""

from __future__ import annotations

from typing import Final

# run once on a connection: it creates the account 'tests' when missing and makes it the session's account, so the
# account_id column DEFAULTs of customers, campaigns and outbound_messages take it (migration 0005)
USE_TEST_ACCOUNT: Final = """
    WITH account AS (
        INSERT INTO accounts (name) VALUES ('tests')
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id
    )
    SELECT set_config('app.account_id', id::text, false) FROM account
"""

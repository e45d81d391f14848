"""Every SQL statement on the accounts and api_keys tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from campaign_api.accounts import Account, ApiKey, Scope, StoredKey
from campaign_api.repositories.connection import Connection

ACCOUNT_COLUMNS: Final = "id, name, recipients_per_day, created_at"
KEY_COLUMNS: Final = "id, account_id, name, prefix, scopes, created_at, revoked_at"

INSERT_ACCOUNT: Final = f"""
    INSERT INTO accounts (name) VALUES (%(name)s) ON CONFLICT (name) DO NOTHING RETURNING {ACCOUNT_COLUMNS}
"""
SELECT_ACCOUNT_BY_NAME: Final = f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = %(name)s"
SELECT_ACCOUNT: Final = f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %(id)s"

INSERT_KEY: Final = f"""
    INSERT INTO api_keys (account_id, name, prefix, secret_hash, scopes)
    VALUES (%(account_id)s, %(name)s, %(prefix)s, %(secret_hash)s, %(scopes)s)
    RETURNING {KEY_COLUMNS}
"""
# the authentication lookup: a SECURITY DEFINER function, since the account is not known yet (migration 0005)
SELECT_KEY_BY_HASH: Final = "SELECT id, account_id, scopes, secret_hash, revoked_at FROM api_key_by_hash(%(hash)s)"
# served by api_keys_account_idx; row-level security keeps it to the caller's account as well
LIST_KEYS: Final = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = %(account_id)s ORDER BY id DESC"
REVOKE_KEY: Final = f"""
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE id = %(id)s AND account_id = %(account_id)s
    RETURNING {KEY_COLUMNS}
"""
# hits counted in one go (migration 0017): (hits so far, the window's start, seconds until it ends)
RESERVE_RATE_LIMIT: Final = """
    SELECT hits, window_start, remaining_s FROM reserve_rate_limit(%(key_id)s, %(bucket)s, %(window_s)s, %(hits)s)
"""
PURGE_RATE_LIMIT_WINDOWS: Final = (
    "DELETE FROM rate_limit_windows WHERE window_start < now() - make_interval(secs => %(keep_s)s)"
)

# the recipient quota: the transaction's account's limit, after taking the account's quota lock, so concurrent
# sends of one account count and compare one at a time (the lock ends with the transaction)
LOCK_QUOTA: Final = """
    SELECT a.recipients_per_day
    FROM (SELECT pg_advisory_xact_lock(hashtext('recipient_quota'), %(account_id)s::integer)) AS locked,
         accounts AS a
    WHERE a.id = %(account_id)s
"""

# the demo key of `make up`: inserted once with a known secret, found again by its hash on the next start
SELECT_KEY_ID_BY_HASH: Final = "SELECT id FROM api_keys WHERE secret_hash = %(hash)s"


def account_from_row(row: Sequence[Any]) -> Account:
    return Account(id=row[0], name=row[1], recipients_per_day=row[2], created_at=row[3])


def key_from_row(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=row[0],
        account_id=row[1],
        name=row[2],
        prefix=row[3],
        scopes=frozenset(Scope(s) for s in row[4]),
        created_at=row[5],
        revoked_at=row[6],
    )


async def insert_account(conn: Connection, name: str) -> Account | None:
    """Create the account; None when the name is taken."""
    cur = await conn.execute(INSERT_ACCOUNT, {"name": name})
    row = await cur.fetchone()
    return None if row is None else account_from_row(row)


async def get_account_by_name(conn: Connection, name: str) -> Account | None:
    cur = await conn.execute(SELECT_ACCOUNT_BY_NAME, {"name": name})
    row = await cur.fetchone()
    return None if row is None else account_from_row(row)


async def get_account(conn: Connection, account_id: int) -> Account | None:
    cur = await conn.execute(SELECT_ACCOUNT, {"id": account_id})
    row = await cur.fetchone()
    return None if row is None else account_from_row(row)


async def insert_key(
    conn: Connection, account_id: int | None, name: str, prefix: str, secret_hash: bytes, scopes: Collection[Scope]
) -> ApiKey:
    """Store a key's hash and prefix (never the key)."""
    params = {
        "account_id": account_id,
        "name": name,
        "prefix": prefix,
        "secret_hash": secret_hash,
        "scopes": sorted(str(s) for s in scopes),
    }
    cur = await conn.execute(INSERT_KEY, params)
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING without ON CONFLICT returns its row
    return key_from_row(row)


async def find_by_hash(conn: Connection, secret_hash: bytes) -> StoredKey | None:
    """The key with this hash, revoked or not; None when no key has it."""
    cur = await conn.execute(SELECT_KEY_BY_HASH, {"hash": secret_hash})
    row = await cur.fetchone()
    if row is None:
        return None
    scopes = frozenset(Scope(s) for s in row[2])
    return StoredKey(id=row[0], account_id=row[1], scopes=scopes, secret_hash=bytes(row[3]), revoked_at=row[4])


async def key_id_by_hash(conn: Connection, secret_hash: bytes) -> int | None:
    cur = await conn.execute(SELECT_KEY_ID_BY_HASH, {"hash": secret_hash})
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def list_keys(conn: Connection, account_id: int) -> list[ApiKey]:
    cur = await conn.execute(LIST_KEYS, {"account_id": account_id})
    return [key_from_row(row) for row in await cur.fetchall()]


async def revoke_key(conn: Connection, account_id: int, key_id: int) -> ApiKey | None:
    """Revoke the account's key (again is a no-op keeping the first time); None when it has no such key."""
    cur = await conn.execute(REVOKE_KEY, {"id": key_id, "account_id": account_id})
    row = await cur.fetchone()
    return None if row is None else key_from_row(row)


async def reserve_rate_limit(
    conn: Connection, key_id: int, bucket: str, window_s: int, hits: int
) -> tuple[int, datetime, float]:
    """Count `hits` requests of the key in the bucket's current window at once: (hits in the window, these
    included; the window's start; seconds until it ends)."""
    cur = await conn.execute(
        RESERVE_RATE_LIMIT, {"key_id": key_id, "bucket": bucket, "window_s": window_s, "hits": hits}
    )
    row = await cur.fetchone()
    assert row is not None  # the upsert always returns its row
    return int(row[0]), row[1], float(row[2])


async def purge_rate_limit_windows(conn: Connection, keep_s: int) -> int:
    """Forget windows that ended long ago (owner role)."""
    cur = await conn.execute(PURGE_RATE_LIMIT_WINDOWS, {"keep_s": keep_s})
    return cur.rowcount


async def lock_recipient_quota(conn: Connection, account_id: int) -> int:
    """Take the account's quota lock for this transaction; return its recipients per 24 hours."""
    cur = await conn.execute(LOCK_QUOTA, {"account_id": account_id})
    row = await cur.fetchone()
    assert row is not None  # the account of an authenticated caller exists
    return int(row[0])

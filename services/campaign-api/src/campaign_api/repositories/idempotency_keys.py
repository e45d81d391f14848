"""Every SQL statement on the idempotency_keys table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from psycopg.types.json import Jsonb

from campaign_api.repositories.connection import Connection

# served by idempotency_keys_created_at_idx
PURGE_EXPIRED: Final = """
    DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %(ttl_hours)s)
"""

SELECT_KEY: Final = """
    SELECT request_hash, response_body FROM idempotency_keys
    WHERE scope = %(scope)s AND key = %(key)s AND created_at >= now() - make_interval(hours => %(ttl_hours)s)
"""

# only accepted sends are stored (202); a refused send is not an answer worth replaying
INSERT_KEY: Final = """
    INSERT INTO idempotency_keys (scope, key, request_hash, response_code, response_body)
    VALUES (%(scope)s, %(key)s, %(request_hash)s, 202, %(response_body)s)
    ON CONFLICT (account_id, scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, response_code = EXCLUDED.response_code,
        response_body = EXCLUDED.response_body, created_at = now()
"""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given under a key."""

    request_hash: str
    response_body: dict[str, Any]


async def purge_expired(conn: Connection, ttl_hours: int) -> int:
    """Forget keys older than the retention window; return how many (run off the request path)."""
    cur = await conn.execute(PURGE_EXPIRED, {"ttl_hours": ttl_hours})
    return cur.rowcount


async def find(conn: Connection, scope: str, key: str, ttl_hours: int) -> StoredAnswer | None:
    """The answer stored under the key within the retention window, or None."""
    cur = await conn.execute(SELECT_KEY, {"scope": scope, "key": key, "ttl_hours": ttl_hours})
    row = await cur.fetchone()
    return None if row is None else StoredAnswer(row[0], dict(row[1]))


async def store(conn: Connection, scope: str, key: str, request_hash: str, response_body: dict[str, Any]) -> None:
    """Remember the answer given under the key (an expired row under the same key is replaced)."""
    await conn.execute(
        INSERT_KEY,
        {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "response_body": Jsonb(response_body),
        },
    )

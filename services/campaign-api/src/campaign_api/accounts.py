"""Accounts and API keys as the use cases see them: scopes, the authenticated caller, keys and their hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from campaign_api.errors import Forbidden

# every key starts with this, so a leaked one is recognisable (secret scanners, logs)
KEY_MARK: Final = "cdk_"
# the characters of a key shown in listings: the mark and 8 random characters, never enough to use it
PREFIX_LENGTH: Final = 12


class Scope(StrEnum):
    """Mirrors api_keys_scopes_check: what a key may do."""

    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    CAMPAIGNS_SEND = "campaigns:send"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    KEYS_ADMIN = "keys:admin"
    AUDIT_READ = "audit:read"
    # the scheduler's system key only: list every account's due campaigns, and send one only when it is due
    CAMPAIGNS_SCHEDULE = "campaigns:schedule"
    # senders (channels): list them, and create, change or delete them
    SENDERS_READ = "senders:read"
    SENDERS_WRITE = "senders:write"
    # compliance (issue 15): the suppression list, the account's compliance settings, inbound messages
    SUPPRESSIONS_READ = "suppressions:read"
    SUPPRESSIONS_WRITE = "suppressions:write"
    COMPLIANCE_ADMIN = "compliance:admin"
    INBOUND_READ = "inbound:read"
    INBOUND_WRITE = "inbound:write"


ACCOUNT_SCOPES: Final = frozenset(Scope) - {Scope.CAMPAIGNS_SCHEDULE}
SYSTEM_SCOPES: Final = frozenset({Scope.CAMPAIGNS_SCHEDULE})


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """Scopes from their names; ValueError names the first unknown one."""
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip()))
        except ValueError:
            allowed = ", ".join(sorted(ACCOUNT_SCOPES))
            raise ValueError(f"unknown scope {name.strip()!r}; the scopes are {allowed}") from None
    return frozenset(scopes)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key's account (None for a system key), the key, and what it may do."""

    account_id: int | None
    key_id: int | None
    scopes: frozenset[Scope]

    @property
    def is_system(self) -> bool:
        return self.account_id is None

    @property
    def account(self) -> int:
        """The caller's account; a system key has none, and may do nothing account-scoped."""
        if self.account_id is None:
            raise Forbidden(sorted(ACCOUNT_SCOPES))
        return self.account_id

    def has_any(self, *needed: Scope) -> bool:
        return any(scope in self.scopes for scope in needed)


def operator_of(account_id: int) -> Caller:
    """A caller acting for an account outside the API (the CLI, the seed): every account scope, no key."""
    return Caller(account_id=account_id, key_id=None, scopes=ACCOUNT_SCOPES)


def key_hash(key: str) -> bytes:
    """What is stored of a key: sha256 of all of it (a key is 32 random bytes, so a fast hash is enough)."""
    return hashlib.sha256(key.encode()).digest()


def matches(key: str, stored_hash: bytes) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(key_hash(key), stored_hash)


def generate_key() -> str:
    """A new key: the mark and 32 random bytes, URL-safe."""
    return KEY_MARK + secrets.token_urlsafe(32)


def prefix_of(key: str) -> str:
    """The part of a key a listing shows."""
    return key[:PREFIX_LENGTH]


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    recipients_per_day: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret."""

    id: int
    account_id: int | None
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the only moment its secret is known."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What authentication reads of a key."""

    id: int
    account_id: int | None
    scopes: frozenset[Scope]
    secret_hash: bytes
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    account_id: int
    api_key_id: int | None
    action: str
    target_type: str
    target_id: int | None
    changes: dict[str, Any]
    created_at: datetime

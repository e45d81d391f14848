"""Request and response bodies of /api-keys and /audit-events (the campaign and customer bodies are in schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field

from campaign_api.accounts import ACCOUNT_SCOPES, ApiKey, AuditEvent, IssuedKey, Scope


class CreateApiKeyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "reporting", "scopes": ["campaigns:read", "customers:read"]}]},
    )

    name: Annotated[str, Field(min_length=1, max_length=200)]
    # campaigns:schedule belongs to the scheduler's system key (made with the CLI): 422 SCOPE_NOT_ALLOWED here
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(ACCOUNT_SCOPES) + 1)]


class ApiKeyBody(BaseModel):
    """A key as listed: its prefix identifies it; the key itself is never shown again."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> Self:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class CreatedApiKeyBody(ApiKeyBody):
    """The answer to POST /api-keys: the only time `key` is shown."""

    key: str

    @classmethod
    def issued(cls, issued: IssuedKey) -> Self:
        return cls(**ApiKeyBody.of(issued.key).model_dump(), key=issued.secret)


class ApiKeyListBody(BaseModel):
    data: list[ApiKeyBody]


class AuditEventBody(BaseModel):
    id: int
    api_key_id: int | None
    action: str
    target_type: str
    target_id: int | None
    changes: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: AuditEvent) -> Self:
        return cls(
            id=event.id,
            api_key_id=event.api_key_id,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            changes=event.changes,
            created_at=event.created_at,
        )


class AuditEventListBody(BaseModel):
    data: list[AuditEventBody]
    # pass as before_id for the next (older) page; null on the last page
    next_cursor: int | None

"""/api-keys and /audit-events: an account's keys and its audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from campaign_api.api.account_schemas import (
    ApiKeyBody,
    ApiKeyListBody,
    AuditEventBody,
    AuditEventListBody,
    CreateApiKeyRequest,
    CreatedApiKeyBody,
)
from campaign_api.api.deps import AuditReader, KeysAdmin, use
from campaign_api.api.routes.responses import declare
from campaign_api.usecases.issue_api_key import IssueApiKey
from campaign_api.usecases.list_api_keys import ListApiKeys
from campaign_api.usecases.list_audit_events import ListAuditEvents
from campaign_api.usecases.revoke_api_key import RevokeApiKey

router = APIRouter()


@router.post("/api-keys", status_code=201, tags=["api keys"], responses=declare(400, 401, 403, 413, 422, 503))
async def create_api_key(
    body: CreateApiKeyRequest, caller: KeysAdmin, issue: Annotated[IssueApiKey, use(IssueApiKey)]
) -> CreatedApiKeyBody:
    """Create a key for your account with the scopes given; `key` is in this answer only, so store it now."""
    return CreatedApiKeyBody.issued(await issue(caller, body.name, frozenset(body.scopes)))


@router.get("/api-keys", tags=["api keys"], responses=declare(401, 403, 503))
async def list_api_keys(caller: KeysAdmin, list_keys: Annotated[ListApiKeys, use(ListApiKeys)]) -> ApiKeyListBody:
    """Your account's keys, newest first, revoked ones included (by prefix; never the key)."""
    return ApiKeyListBody(data=[ApiKeyBody.of(key) for key in await list_keys(caller)])


@router.delete("/api-keys/{key_id}", tags=["api keys"], responses=declare(401, 403, 404, 422, 503))
async def revoke_api_key(
    key_id: int, caller: KeysAdmin, revoke: Annotated[RevokeApiKey, use(RevokeApiKey)]
) -> ApiKeyBody:
    """Revoke a key: every request with it is refused (401) from the moment this answers."""
    return ApiKeyBody.of(await revoke(caller, key_id))


@router.get("/audit-events", tags=["audit"], responses=declare(401, 403, 422, 503))
async def list_audit_events(
    caller: AuditReader,
    list_events: Annotated[ListAuditEvents, use(ListAuditEvents)],
    before_id: Annotated[int | None, Query(ge=1, description="keyset bound: pass next_cursor here")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> AuditEventListBody:
    """Every create, edit, send, cancel and key change of your account, newest first, in keyset pages."""
    events = await list_events(caller, before_id, limit)
    cursor = events[-1].id if len(events) == limit else None
    return AuditEventListBody(data=[AuditEventBody.of(event) for event in events], next_cursor=cursor)

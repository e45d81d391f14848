"""Small helpers that create data through the API, as a client would."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from campaign_api.accounts import ACCOUNT_SCOPES
from campaign_api.main import create_account, create_key
from campaign_api.settings import Settings

_phones = itertools.count(1)


def next_phone() -> str:
    """A fresh valid Kenyan mobile number in E.164."""
    return f"+2547{11_000_000 + next(_phones):08d}"


async def create_campaign(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """POST /campaigns with sensible defaults; assert 201."""
    body = {"name": "Test campaign", "channel": "sms", "base_template": "Hi {first_name|there}!", **fields}
    response = await client.post("/campaigns", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def create_customer(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """POST /customers with a fresh phone unless given; assert 201."""
    body = {"phone": next_phone(), "first_name": "Test", **fields}
    response = await client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The response is the contract's error shape with this status and code; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert message
    return message


@dataclass(frozen=True, slots=True)
class KeyedAccount:
    """An account made with the CLI's functions and a key of it holding every account scope."""

    id: int
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def new_account(settings: Settings, name: str) -> KeyedAccount:
    """A fresh account (the name made unique) with an all-scopes key."""
    account_id = await create_account(settings, f"{name}-{uuid.uuid4().hex[:8]}")
    return KeyedAccount(account_id, await create_key(settings, str(account_id), ACCOUNT_SCOPES, "tests"))

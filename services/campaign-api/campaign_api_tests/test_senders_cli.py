"""`campaign-api senders ensure` (how `make up SENDER=kannel` seeds its sender) and `keys create --scopes all`."""

from __future__ import annotations

import json
import uuid

import httpx

from campaign_api_tests.test_cli import campaign_api


async def test_senders_ensure_creates_once_and_prints_the_callback_urls(
    database_url: str, client: httpx.AsyncClient
) -> None:
    name = f"cli-senders-{uuid.uuid4().hex[:8]}"
    assert campaign_api(database_url, "accounts", "create", name).returncode == 0
    args = ("senders", "ensure", name, "--name", "Kannel", "--provider", "kannel", "--address", "CAMPAIGN", "--default")

    first = campaign_api(database_url, *args, PUBLIC_BASE_URL="https://api.example.com")
    again = campaign_api(database_url, *args, PUBLIC_BASE_URL="https://api.example.com")

    assert first.returncode == 0, first.stderr
    created, repeated = json.loads(first.stdout), json.loads(again.stdout)
    assert created["id"] == repeated["id"] and created["is_default"] is True
    assert created["callback_urls"]["delivery_receipts"].startswith("https://api.example.com/providers/kannel/")
    assert created["callback_urls"] == repeated["callback_urls"]
    refused = campaign_api(
        database_url, "senders", "ensure", name, "--name", "W", "--provider", "whatsapp", "--address", "1"
    )
    assert refused.returncode != 0 and "INVALID_SENDER" in refused.stderr

    key = campaign_api(database_url, "keys", "create", name, "--scopes", "all").stdout.strip()
    listed = await client.get("/senders", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["data"]] == [created["id"]]

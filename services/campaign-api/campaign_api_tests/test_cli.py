"""`campaign-api accounts create` and `keys create`, as an operator runs them: stdout carries the id or the key
alone, so scripts (and `make up`) can capture it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from campaign_api_tests.factories import assert_error


def campaign_api(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "campaign-api"
    environment = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **env}
    return subprocess.run(  # noqa: S603 - the workspace's own console script
        [str(script), *args], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


async def test_accounts_and_keys_made_with_the_cli_work_against_the_api(
    database_url: str, client: httpx.AsyncClient
) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = campaign_api(database_url, "accounts", "create", name)
    assert created.returncode == 0, created.stderr
    account_id = int(created.stdout.strip())

    again = campaign_api(database_url, "accounts", "create", name)
    assert again.returncode != 0 and "ACCOUNT_EXISTS" in again.stderr

    issued = campaign_api(database_url, "keys", "create", name, "--scopes", "customers:read,customers:write")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    assert key.startswith("cdk_") and "\n" not in key

    headers = {"Authorization": f"Bearer {key}"}
    customer = await client.post("/customers", json={"phone": "+254712999001"}, headers=headers)
    assert customer.status_code == 201, customer.text
    assert_error(await client.get("/campaigns", headers=headers), 403, "FORBIDDEN")
    mine = await client.get(f"/customers/{customer.json()['id']}")  # the session's account: not its customer
    assert_error(mine, 404, "CUSTOMER_NOT_FOUND")
    assert account_id > 0


def test_keys_create_refuses_unknown_scopes_and_accounts_and_honours_a_given_key(database_url: str) -> None:
    bogus = campaign_api(database_url, "keys", "create", "no-such-account", "--scopes", "campaigns:read")
    assert bogus.returncode != 0 and "ACCOUNT_NOT_FOUND" in bogus.stderr
    name = f"cli-{uuid.uuid4().hex[:8]}"
    assert campaign_api(database_url, "accounts", "create", name).returncode == 0
    unknown = campaign_api(database_url, "keys", "create", name, "--scopes", "campaigns:everything")
    assert unknown.returncode != 0 and "unknown scope" in unknown.stderr
    system_scope = campaign_api(database_url, "keys", "create", name, "--scopes", "campaigns:schedule")
    assert system_scope.returncode != 0

    given = f"cdk_dev-{uuid.uuid4().hex}"
    first = campaign_api(
        database_url, "keys", "create", name, "--scopes", "all", "--from-env", "DEV_KEY", DEV_KEY=given
    )
    second = campaign_api(
        database_url, "keys", "create", name, "--scopes", "all", "--from-env", "DEV_KEY", DEV_KEY=given
    )
    assert first.stdout.strip() == second.stdout.strip() == given, (first.stderr, second.stderr)

"""Contract fuzzing: schemathesis drives the real API over HTTP from its own /openapi.json.

Every operation, positive and negative data, NUL bytes and boundary values (the coverage phase), then stateful runs
that follow the schema's links (create a campaign, then get, patch, send, preview it; create a customer, then get
it). The run fails on any 5xx, any status or header the operation does not declare, and any body, error bodies
included, that breaks its declared schema.

The quick profile runs in `make test`; `make fuzz` runs the long one (FUZZ_PROFILE=long). Both are seeded
(schemathesis.toml) and bounded by example counts, not time, so a failure replays with the same command.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any, Final

import psycopg
import pytest
from fastapi import FastAPI
from service_kit.probe_server import serve_asgi

from campaign_api_tests.factories import KeyedAccount

CHECKS: Final = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
)
# examples per operation and phase: bounded by count, not time, so every run makes the same requests
PROFILES: Final = {"quick": 150, "long": 1000}
CONFIG: Final = Path(__file__).with_name("schemathesis.toml")


def schemathesis_command(base_url: str, profile: str, api_key: str) -> list[str]:
    """The schemathesis CLI invocation for a profile, every request carrying the account's all-scopes key."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        f"--config-file={CONFIG}",
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--checks={','.join(CHECKS)}",
        f"--max-examples={PROFILES[profile]}",
        f"--header=Authorization: Bearer {api_key}",
        # the one DELETE revokes API keys: fuzzed, it would revoke the run's own key and leave only 401s to check
        # (revocation has its own tests in test_accounts.py)
        "--exclude-method=DELETE",
    ]


async def test_fuzzed_requests_get_no_5xx_and_only_declared_answers(
    app: FastAPI, account: KeyedAccount, empty_db: None, db: psycopg.AsyncConnection[tuple[Any, ...]]
) -> None:
    if importlib.util.find_spec("schemathesis") is None:
        pytest.fail("schemathesis is not installed: run `make install` (it is in the workspace's dev group)")
    profile = os.environ.get("FUZZ_PROFILE", "quick")
    started = time.perf_counter()
    try:
        # the app's lifespan already runs on this loop: serve it here, so the CLI's requests reach the same pool
        async with serve_asgi(app, "127.0.0.1", 0) as port:
            command = schemathesis_command(f"http://127.0.0.1:{port}", profile, account.key)
            process = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
            output, _ = await process.communicate()
    finally:
        await db.execute("TRUNCATE outbound_messages, campaigns, customers, idempotency_keys RESTART IDENTITY CASCADE")
    report = output.decode(errors="replace")
    # the summary (operations, phases, cases) goes to the test's output: `make fuzz` shows it, so do -rP and -s
    print(f"schemathesis profile {profile!r}, {time.perf_counter() - started:.1f} s\n{report[-6000:]}")
    assert process.returncode == 0, report[-20000:]

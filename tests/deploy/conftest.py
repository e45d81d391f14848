"""Session fixtures of the deploy checks: a real helm, and the chart rendered with each value file."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_tools import OPERATOR_APIS, Helm, fetch_helm


@pytest.fixture(scope="session")
def helm() -> Helm:
    """A working helm binary (fetched into .tools/ when none is on PATH)."""
    return fetch_helm()


@pytest.fixture(scope="session")
def dev_objects(helm: Helm) -> list[dict[str, Any]]:
    """Every object the chart renders with values-dev.yaml (kind/minikube)."""
    return helm.template("values-dev.yaml")


@pytest.fixture(scope="session")
def prod_objects(helm: Helm) -> list[dict[str, Any]]:
    """Every object the chart renders with values-prod.yaml, in a cluster with the operators' CRDs."""
    return helm.template("values-prod.yaml", apis=OPERATOR_APIS)


@pytest.fixture(scope="session", params=["values-dev.yaml", "values-prod.yaml"])
def rendered(request: pytest.FixtureRequest, helm: Helm) -> tuple[str, list[dict[str, Any]]]:
    """The chart rendered with one value file at a time: (file name, objects)."""
    name: str = request.param
    return name, helm.template(name, apis=OPERATOR_APIS)

"""Session fixtures of the deploy checks: a real helm, and the chart rendered with each value file."""

from __future__ import annotations

from typing import Any, Final

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


# the opt-in Kannel gateway on: its objects go through every check the others do (production names its Secret)
KANNEL_ON: Final = ("kannel.enabled=true", "kannel.existingSecret=campaign-dispatch-kannel-sendsms")
RENDERINGS: Final = {
    "values-dev.yaml": ("values-dev.yaml", ()),
    "values-prod.yaml": ("values-prod.yaml", ()),
    "values-dev.yaml+kannel": ("values-dev.yaml", KANNEL_ON[:1]),
    "values-prod.yaml+kannel": ("values-prod.yaml", KANNEL_ON),
}


@pytest.fixture(scope="session", params=list(RENDERINGS))
def rendered(request: pytest.FixtureRequest, helm: Helm) -> tuple[str, list[dict[str, Any]]]:
    """The chart rendered with one value file at a time, and again with Kannel on: (name, objects)."""
    values, sets = RENDERINGS[request.param]
    return request.param, helm.template(values, sets=sets, apis=OPERATOR_APIS)


@pytest.fixture(scope="session")
def kannel_dev_objects(helm: Helm) -> list[dict[str, Any]]:
    """values-dev.yaml with the Kannel gateway on."""
    return helm.template("values-dev.yaml", sets=KANNEL_ON[:1])


@pytest.fixture(scope="session")
def kannel_prod_objects(helm: Helm) -> list[dict[str, Any]]:
    """values-prod.yaml with the Kannel gateway on, its sendsms user in an existing Secret."""
    return helm.template("values-prod.yaml", sets=KANNEL_ON, apis=OPERATOR_APIS)

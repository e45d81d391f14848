"""The Tiltfile, executed with starlark-pyo3 against stubbed Tilt built-ins: everything it names exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_tools import CHART, RELEASE, REPO_ROOT, SERVICES, STARLARK, Helm, run_json

SITE_PACKAGES = "/app/.venv/lib/python3.11/site-packages/"


@pytest.fixture(scope="module")
def calls() -> list[dict[str, Any]]:
    """Every Tilt built-in the Tiltfile called, in order, with its arguments."""
    result: dict[str, list[dict[str, Any]]] = run_json(
        (STARLARK,), "python", "tests/deploy/tilt_stub_run.py", "Tiltfile"
    )
    return result["calls"]


def called(calls: list[dict[str, Any]], fn: str) -> list[dict[str, Any]]:
    """The calls of one built-in."""
    return [c for c in calls if c["fn"] == fn]


def exists(relative: str) -> bool:
    """True when the path, relative to the repository root, exists."""
    return (REPO_ROOT / relative).exists()


def test_one_image_build_per_service_from_its_dockerfile(calls: list[dict[str, Any]]) -> None:
    builds = called(calls, "docker_build_with_restart")
    assert [b["args"][0] for b in builds] == [f"localhost/campaign-dispatch/{s}" for s in SERVICES]
    for build in builds:
        context = build["args"][1]
        assert exists(context)
        assert exists(build["kwargs"]["dockerfile"])
        for path in build["kwargs"]["only"]:
            assert exists(path), f"{build['args'][0]}: `only` names missing {path}"


def test_every_image_is_built_from_the_one_dockerfile(calls: list[dict[str, Any]]) -> None:
    builds = called(calls, "docker_build_with_restart")
    for build, service in zip(builds, SERVICES, strict=True):
        assert build["kwargs"]["dockerfile"] == "Dockerfile"
        assert build["kwargs"]["build_args"]["SERVICE"] == service


def test_live_update_syncs_existing_sources_into_the_installed_packages(calls: list[dict[str, Any]]) -> None:
    for build in called(calls, "docker_build_with_restart"):
        steps = build["kwargs"]["live_update"]
        assert steps[0]["step"] == "fall_back_on", "fall_back_on must come before the syncs"
        for path in steps[0]["files"]:
            assert exists(path), f"fall_back_on names missing {path}"
        syncs = [s for s in steps if s["step"] == "sync"]
        assert syncs, f"{build['args'][0]} syncs nothing"
        for sync in syncs:
            assert exists(sync["src"]), f"live_update syncs missing {sync['src']}"
            package = Path(sync["src"]).name
            assert sync["dest"] == SITE_PACKAGES + package


def test_entrypoints_are_the_console_scripts(calls: list[dict[str, Any]]) -> None:
    for build, service in zip(called(calls, "docker_build_with_restart"), SERVICES, strict=True):
        assert build["kwargs"]["entrypoint"] == [service]


def test_chart_and_values_it_deploys_exist(calls: list[dict[str, Any]]) -> None:
    (helm_call,) = called(calls, "helm")
    assert (REPO_ROOT / helm_call["args"][0]).resolve() == CHART
    assert helm_call["kwargs"]["name"] == RELEASE
    for values in helm_call["kwargs"]["values"]:
        assert exists(values), f"missing values file {values}"
    assert len(called(calls, "k8s_yaml")) == 1


def test_images_and_resources_match_what_the_chart_renders(calls: list[dict[str, Any]], helm: Helm) -> None:
    (helm_call,) = called(calls, "helm")
    values = [Path(v).name for v in helm_call["kwargs"]["values"]]
    objects = helm.template(*values, sets=tuple(helm_call["kwargs"].get("set", [])))
    workloads = {o["metadata"]["name"]: o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")}
    images = {
        c["image"].rsplit(":", 1)[0] for o in workloads.values() for c in o["spec"]["template"]["spec"]["containers"]
    }
    for build in called(calls, "docker_build_with_restart"):
        assert build["args"][0] in images, f"Tilt builds {build['args'][0]}, which the chart never runs"
    resources = called(calls, "k8s_resource")
    names = {r["kwargs"]["new_name"] for r in resources}
    for resource in resources:
        assert resource["args"][0] in workloads, f"k8s_resource names no workload: {resource['args'][0]}"
        assert set(resource["kwargs"].get("resource_deps", [])) <= names
        assert resource["kwargs"]["labels"]
    assert set(SERVICES) <= names
    forwards = {r["kwargs"]["new_name"]: r["kwargs"].get("port_forwards", []) for r in resources}
    assert forwards["campaign-api"] == ["8080:8080"]

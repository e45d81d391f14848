"""The four service Dockerfiles: one shared multi-stage pattern, built with uv from the lockfile."""

from __future__ import annotations

import re
import tomllib

import pytest
from deploy_tools import REPO_ROOT, SERVICES

HEADER_END = "FROM ${UV_IMAGE} AS uv"


def dockerfile(service: str) -> str:
    """The text of one service's Dockerfile."""
    return (REPO_ROOT / "services" / service / "Dockerfile").read_text()


def stages(text: str) -> dict[str, str]:
    """Each build stage's text by its name."""
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].split(" AS ")[-1].strip(): part for part in parts}


@pytest.mark.parametrize("service", SERVICES)
def test_image_is_built_from_the_lockfile_with_stubs_generated_inside(service: str) -> None:
    text = dockerfile(service)
    assert f"ARG SERVICE={service}\n" in text
    by_stage = stages(text)
    assert set(by_stage) == {"uv", "build-base", "stubs", "builder", "runtime"}
    assert "uv sync --frozen --no-install-workspace --only-group dev" in by_stage["stubs"]
    assert "python -m grpc_tools.protoc -Iproto" in by_stage["stubs"]
    for flag in ("--python_out", "--grpc_python_out", "--mypy_out", "--mypy_grpc_out"):
        assert flag in by_stage["stubs"]
    assert "uv sync --frozen --no-dev --no-editable --package ${SERVICE}" in by_stage["builder"]
    assert "COPY --from=stubs /out/template libs/template-proto/src/template" in by_stage["builder"]


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_is_slim_non_root_and_has_no_build_tools(service: str) -> None:
    text = dockerfile(service)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    runtime = stages(text)["runtime"]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    assert "USER 10001:10001" in runtime
    assert "COPY --from=builder --chown=${CODE_OWNER} /app/.venv /app/.venv" in runtime
    for tool in ("/uv", "apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in runtime, f"{service}: the final stage must not bring {tool}"


@pytest.mark.parametrize("service", SERVICES)
def test_entrypoint_is_the_services_console_script(service: str) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "services" / service / "pyproject.toml").read_text())
    assert service in pyproject["project"]["scripts"]
    assert f'ENTRYPOINT ["{service}"]' in dockerfile(service)


def test_the_four_dockerfiles_share_one_pattern() -> None:
    def normalised(service: str) -> list[str]:
        body = dockerfile(service).split(HEADER_END, 1)[1].replace(service, "<svc>")
        # only the service name, the exposed ports, campaign-api's migrations and its default command may differ
        return [
            line
            for line in body.splitlines()
            if not line.startswith(("EXPOSE", "CMD")) and "migrations" not in line and "MIGRATIONS_DIR" not in line
        ]

    reference = normalised(SERVICES[0])
    for service in SERVICES[1:]:
        assert normalised(service) == reference, f"{service}/Dockerfile drifted from {SERVICES[0]}/Dockerfile"


def test_campaign_api_image_carries_the_migrations() -> None:
    runtime = stages(dockerfile("campaign-api"))["runtime"]
    assert "COPY --chown=0:0 migrations /app/migrations" in runtime
    assert "ENV MIGRATIONS_DIR=/app/migrations" in runtime
    assert 'CMD ["serve"]' in runtime


def test_dockerignore_keeps_local_state_and_generated_stubs_out_of_the_context() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().splitlines())
    for entry in (".git", ".venv", ".tools", ".env", "libs/template-proto/src/template", "services/*/tests"):
        assert entry in ignored, f".dockerignore must exclude {entry}"
    for needed in ("uv.lock", "pyproject.toml", "libs", "proto", "migrations", "services"):
        assert needed not in ignored

"""The one Dockerfile: every service image built from it with `--build-arg SERVICE`, with uv from the lockfile."""

from __future__ import annotations

import re
import tomllib

import pytest
from deploy_tools import DOCKERFILE, HADOLINT, REPO_ROOT, SERVICES, run_with

BIND_OR_CACHE_MOUNT = re.compile(r"--mount=type=(?:bind|cache),[^\s\\]*")


def dockerfile() -> str:
    """The text of the Dockerfile."""
    return DOCKERFILE.read_text()


def stages(text: str) -> dict[str, str]:
    """Each build stage's text by its name."""
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].split(" AS ")[-1].strip(): part for part in parts}


def test_one_dockerfile_serves_every_service() -> None:
    assert DOCKERFILE == REPO_ROOT / "Dockerfile"
    leftovers = sorted(str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("services/*/Dockerfile*"))
    assert not leftovers, f"per-service Dockerfiles are back: {leftovers}"
    assert 'ARG SERVICE=""\n' in dockerfile(), "SERVICE has no default: a build must name the service"


def test_hadolint_finds_nothing() -> None:
    result = run_with((HADOLINT,), "hadolint", "--no-color", str(DOCKERFILE))
    assert result.returncode == 0, f"hadolint:\n{result.stdout}\n{result.stderr}"


def test_mount_targets_are_absolute_paths() -> None:
    mounts = BIND_OR_CACHE_MOUNT.findall(dockerfile())
    assert len(mounts) >= 5
    for mount in mounts:
        options = dict(option.split("=", 1) for option in mount.removeprefix("--mount=").split(","))
        assert options["target"].startswith("/"), f"buildah and podman reject the relative target of {mount}"


def test_image_is_built_from_the_lockfile_with_stubs_generated_inside() -> None:
    by_stage = stages(dockerfile())
    assert set(by_stage) == {"uv", "build-base", "stubs", "builder", "kannel", "runtime"}
    assert "uv sync --frozen --no-install-workspace --only-group dev" in by_stage["stubs"]
    assert "python -m grpc_tools.protoc -Iproto" in by_stage["stubs"]
    for flag in ("--python_out", "--grpc_python_out", "--mypy_out", "--mypy_grpc_out"):
        assert flag in by_stage["stubs"]
    assert 'uv sync --frozen --no-dev --no-install-workspace --package "${SERVICE}"' in by_stage["builder"]
    assert 'uv sync --frozen --no-dev --no-editable --package "${SERVICE}"' in by_stage["builder"]
    assert "COPY --from=stubs /out/template libs/template-proto/src/template" in by_stage["builder"]
    assert "COPY services/${SERVICE} services/${SERVICE}" in by_stage["builder"]


def test_runtime_is_slim_non_root_and_has_no_build_tools() -> None:
    text = dockerfile()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    runtime = stages(text)["runtime"]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    assert "USER 10001:10001" in runtime
    assert "COPY --from=builder --chown=${CODE_OWNER} /app/.venv /app/.venv" in runtime
    for tool in ("/uv", "apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in runtime, f"the final stage must not bring {tool}"


@pytest.mark.parametrize("service", SERVICES)
def test_entrypoint_is_the_services_console_script(service: str) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "services" / service / "pyproject.toml").read_text())
    assert service in pyproject["project"]["scripts"], f"{service} has no console script named {service}"
    runtime = stages(dockerfile())["runtime"]
    assert 'ln -s "/app/.venv/bin/${SERVICE}" /app/entrypoint' in runtime
    assert 'ENTRYPOINT ["/app/entrypoint"]' in runtime
    assert "CMD" not in runtime, "campaign-api serves by default; the others take no arguments"


def test_the_migrations_ship_inside_campaign_apis_package_and_only_it_serves_the_dashboard() -> None:
    by_stage = stages(dockerfile())
    packaged = REPO_ROOT / "services" / "campaign-api" / "src" / "campaign_api" / "migrations"
    assert sorted(packaged.glob("*.sql")), "campaign-api's wheel carries its migrations"
    copies = [line for line in by_stage["builder"].splitlines() if re.match(r"\s*(COPY|RUN|&&)", line)]
    assert not [line for line in copies if "migrations" in line], "no build step copies a migrations folder"
    assert 'if [ "${SERVICE}" = "campaign-api" ] && [ -f /src/web/dist/index.html ]' in by_stage["builder"]
    assert "COPY --from=builder --chown=0:0 /app/web /app/web" in by_stage["runtime"]
    assert "WEB_DIST_DIR=/app/web/dist" in by_stage["runtime"]


def test_dockerignore_keeps_local_state_and_generated_stubs_out_of_the_context() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().splitlines())
    for entry in (
        ".git",
        ".venv",
        ".tools",
        ".cache",
        ".env",
        "libs/template-proto/src/template",
        "services/*/*_tests",
        "libs/*/*_tests",
    ):
        assert entry in ignored, f".dockerignore must exclude {entry}"
    for needed in ("uv.lock", "pyproject.toml", "libs", "proto", "services", "web", "web/dist", "Dockerfile"):
        assert needed not in ignored


def test_kannel_stage_is_debians_gateway_non_root_and_not_the_default_target() -> None:
    by_stage = stages(dockerfile())
    assert list(by_stage)[-1] == "runtime", "a build without --target must still be a service image"
    kannel = by_stage["kannel"]
    assert kannel.startswith("${PYTHON_IMAGE} AS kannel")
    assert "apt-get install -y --no-install-recommends kannel kannel-extras" in kannel
    assert "rm -rf /var/lib/apt/lists/*" in kannel
    assert "ln -s /usr/lib/kannel/test/fakesmsc /usr/local/bin/fakesmsc" in kannel
    assert "USER 10001:10001" in kannel

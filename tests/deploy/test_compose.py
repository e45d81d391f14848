"""docker-compose.yml: valid against the compose specification, health-gated, and every mounted file exists."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from deploy_tools import CHECK_JSONSCHEMA, REPO_ROOT, SERVICES, run_with

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?-[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as compose reads it (YAML anchors and merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    result = run_with((CHECK_JSONSCHEMA,), "check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, f"compose spec violations:\n{result.stdout}\n{result.stderr}"


def test_the_platform_and_its_observability_stack_are_all_there(compose: dict[str, Any]) -> None:
    expected = {"postgres", "rabbitmq", "migrate", *SERVICES, "otel-collector", "jaeger", "prometheus", "grafana"}
    assert set(compose["services"]) == expected
    assert compose["services"]["postgres"]["image"] == "postgres:16"
    assert compose["services"]["rabbitmq"]["image"] == "rabbitmq:3.13-management"


def test_every_service_has_a_healthcheck_or_waits_on_a_condition(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must use conditions, not a bare list"
        assert "healthcheck" in service or depends, f"{name}: neither a healthcheck nor a dependency condition"
        for dependency, condition in depends.items():
            assert dependency in compose["services"], f"{name} depends on unknown {dependency}"
            wanted = condition["condition"]
            if wanted == "service_healthy":
                assert "healthcheck" in compose["services"][dependency], f"{dependency} has no healthcheck"


def test_services_start_after_migrations_and_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    steps = [step.strip() for step in services["migrate"]["command"][0].split("&&")]
    assert steps[:2] == ["campaign-api migrate", "campaign-api seed"]
    # the keys the stack runs with are registered by the same one-shot, from the values the services read
    assert "campaign-api keys create --system --name scheduler --from-env SCHEDULER_API_KEY" in steps
    assert "SCHEDULER_API_KEY" in services["scheduler"]["environment"]
    assert (
        services["migrate"]["environment"]["SCHEDULER_API_KEY"]
        == services["scheduler"]["environment"]["SCHEDULER_API_KEY"]
    )
    for name in ("campaign-api", "dispatch-worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["rabbitmq"] == {"condition": "service_healthy"}
        assert depends["template-svc"] == {"condition": "service_healthy"}
    assert services["scheduler"]["depends_on"] == {"campaign-api": {"condition": "service_healthy"}}
    assert "DATABASE_URL" not in services["scheduler"]["environment"], "the scheduler holds no database credentials"


def test_every_mounted_path_and_build_file_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in service:
            build = service["build"]
            assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file(), f"{name}: no {build['dockerfile']}"


def test_every_service_image_is_built_from_the_one_dockerfile(compose: dict[str, Any]) -> None:
    builds = {name: service["build"] for name, service in compose["services"].items() if "build" in service}
    assert set(builds) == {"migrate", *SERVICES}
    for name, build in builds.items():
        assert build["context"] == "."
        assert build["dockerfile"] == "Dockerfile", name
        wanted = "campaign-api" if name == "migrate" else name
        assert build["args"] == {"SERVICE": wanted}, name


def test_prometheus_and_grafana_get_the_shipped_rules_and_dashboards(compose: dict[str, Any]) -> None:
    mounts = {
        volume.split(":")[1]: volume.split(":")[0]
        for name in ("prometheus", "grafana", "otel-collector")
        for volume in compose["services"][name]["volumes"]
    }
    assert mounts["/etc/prometheus/rules/alerts.yml"] == "./charts/campaign-dispatch/files/prometheus/alerts.yml"
    assert mounts["/etc/prometheus/prometheus.yml"] == "./observability/prometheus/prometheus.yml"
    assert mounts["/etc/grafana/provisioning"] == "./observability/grafana/provisioning"
    assert mounts["/var/lib/grafana/dashboards"] == "./charts/campaign-dispatch/files/grafana"
    assert mounts["/etc/otelcol-contrib/config.yaml"] == "./observability/otel-collector/config.yaml"


def test_every_variable_compose_reads_is_documented_in_env_example() -> None:
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    documented = {
        line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    }
    assert used == documented, f"undocumented: {used - documented}; unused: {documented - used}"


def test_python_services_run_hardened(compose: dict[str, Any]) -> None:
    for name in ("migrate", *SERVICES):
        service = compose["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["tmpfs"] == ["/tmp"], name  # noqa: S108 - a tmpfs inside the container

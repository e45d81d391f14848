"""docker-compose.yml: valid against the compose specification, health-gated, and every mounted file exists."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from deploy_tools import CHECK_JSONSCHEMA, REPO_ROOT, SERVICES, run_with
from test_kit import kannel_config

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
KANNEL_BOXES = ("kannel", "kannel-smsbox", "kannel-smsc")
KANNEL_SERVICES = (*KANNEL_BOXES, "kannel-sender")
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
    assert set(compose["services"]) == expected | set(KANNEL_SERVICES)
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
    assert set(builds) == {"migrate", *SERVICES, *KANNEL_SERVICES}
    for name, build in builds.items():
        assert build["context"] == "."
        assert build["dockerfile"] == "Dockerfile", name
        if name in KANNEL_BOXES:
            assert build == {"context": ".", "dockerfile": "Dockerfile", "target": "kannel"}, name
            continue
        wanted = "campaign-api" if name in ("migrate", "kannel-sender") else name
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


def test_kannel_is_opt_in_behind_its_profile(compose: dict[str, Any]) -> None:
    profiled = {name for name, service in compose["services"].items() if "profiles" in service}
    assert profiled == set(KANNEL_SERVICES)
    for name in KANNEL_SERVICES:
        assert compose["services"][name]["profiles"] == ["kannel"], name
    for name in ("campaign-api", "dispatch-worker"):
        assert not set(compose["services"][name].get("depends_on", {})) & set(KANNEL_SERVICES), (
            f"{name} must start without the kannel profile"
        )


def test_kannel_boxes_run_the_shared_config_in_one_network_namespace(compose: dict[str, Any]) -> None:
    services = compose["services"]
    conf = REPO_ROOT / "charts/campaign-dispatch/files/kannel/kannel.conf"
    assert conf.read_text() == kannel_config.deployed(), "regenerate it from test_kit.kannel_config.deployed()"
    for name in KANNEL_BOXES:
        box = services[name]
        assert "./charts/campaign-dispatch/files/kannel/kannel.conf:/etc/kannel/kannel.conf:ro" in box["volumes"]
        assert box["configs"] == [{"source": "kannel-sendsms-user", "target": kannel_config.PRIVATE_FILE}]
        assert box["read_only"] is True and box["cap_drop"] == ["ALL"], name
    # the boxes and the SMSC link listen on loopback: smsbox and the simulator share bearerbox's namespace
    assert services["kannel-smsbox"]["network_mode"] == "service:kannel"
    assert services["kannel-smsc"]["network_mode"] == "service:kannel"
    ports = kannel_config.KannelPorts()
    assert services["kannel-smsc"]["command"] == [
        "fakesmsc", "-H", "127.0.0.1", "-r", str(ports.smsc), *kannel_config.FAKESMSC_ARGS
    ]  # fmt: skip
    assert services["kannel"]["healthcheck"]["test"][-1].endswith(f"/127.0.0.1/{ports.box}")
    assert services["kannel-smsbox"]["healthcheck"]["test"][-1].endswith(f"/127.0.0.1/{ports.sendsms}")


def test_kannel_sender_user_and_worker_credentials_are_one_pair(compose: dict[str, Any]) -> None:
    username, password = "${KANNEL_USERNAME:-dispatch}", "${KANNEL_PASSWORD:-compose-kannel-local-development-only}"
    assert compose["configs"]["kannel-sendsms-user"]["content"] == kannel_config.sendsms_user(username, password)
    worker = compose["services"]["dispatch-worker"]["environment"]
    assert worker["KANNEL_CREDENTIALS"] == f"{username}:{password}"
    assert worker["KANNEL_URL"] == f"http://kannel:{kannel_config.KannelPorts().sendsms}/cgi-bin/sendsms"
    assert worker["CALLBACK_BASE_URL"] == "http://campaign-api:8080"
    seeded = compose["services"]["kannel-sender"]
    assert seeded["command"][:3] == ["senders", "ensure", "demo"]
    assert {"--provider=kannel", "--channel=sms", "--default", "--credentials-ref=KANNEL_CREDENTIALS"} <= set(
        seeded["command"]
    )
    assert seeded["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}

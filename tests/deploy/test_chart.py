"""The Helm chart: lints, renders valid Kubernetes 1.30 and 1.34 objects and custom resources for dev and prod,
passes checkov, and keeps its promises."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from campaign_api.settings import Settings
from deploy_tools import (
    CHART,
    CHECKOV,
    CHECKOV_CONFIG,
    DOCKERFILE,
    KUBERNETES_VALIDATE,
    KUBERNETES_VERSIONS,
    OPERATOR_APIS,
    PYYAML,
    RELEASE,
    SERVICES,
    Helm,
    crd_validator,
    run_json,
    run_with,
)
from test_kit import kannel_config

from conftest import KANNEL_ON

Objects = list[dict[str, Any]]
# custom resources of operators the chart can target; kubernetes-validate has no schema for them
OPERATOR_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
# every optional object on: the custom resources, the HTTPRoute beside the Ingress
EVERYTHING_ON = (
    "campaignApi.httpRoute.enabled=true",
    "campaignApi.httpRoute.parentRefs[0].name=public",
    "campaignApi.httpRoute.hostnames[0]=campaigns.example.com",
    *KANNEL_ON,
)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    """The one object of that kind and name."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_specs(objects: Objects) -> Iterator[tuple[str, dict[str, Any]]]:
    """(workload name, pod spec) of every Deployment, StatefulSet and Job."""
    for o in objects:
        if o["kind"] in WORKLOAD_KINDS:
            yield f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]


def component(name: str) -> str:
    """The full name of one component's objects."""
    return f"{RELEASE}-{name}"


def selector_of(name: str) -> dict[str, str]:
    """The pod labels that select one component."""
    return {
        "app.kubernetes.io/name": "campaign-dispatch",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": name,
    }


def test_chart_lints_cleanly_with_dev_and_prod_values(helm: Helm) -> None:
    for values in ("values-dev.yaml", "values-prod.yaml"):
        for sets in ((), KANNEL_ON):
            flags = [arg for pair in sets for arg in ("--set", pair)]
            result = helm.run("lint", "--strict", str(CHART), "-f", str(CHART / values), *flags)
            assert result.returncode == 0, f"helm lint --strict -f {values} {flags}:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_kubernetes(rendered: tuple[str, Objects], version: str) -> None:
    values, objects = rendered
    with tempfile.TemporaryDirectory() as scratch:
        manifest = Path(scratch) / "rendered.yaml"
        manifest.write_text(yaml.safe_dump_all(objects))
        verdicts = run_json(
            (KUBERNETES_VALIDATE, PYYAML),
            "python",
            "tests/deploy/k8s_validate.py",
            version,
            str(manifest),
        )
    assert len(verdicts) == len(objects)
    invalid = [f"{v['kind']}/{v['name']}: {v['error']}" for v in verdicts if v["verdict"] == "invalid"]
    assert not invalid, f"{values}: objects rejected by the Kubernetes {version} schemas: {invalid}"
    unchecked = {(v["apiVersion"], v["kind"]) for v in verdicts if v["verdict"] == "no-schema"}
    assert unchecked <= OPERATOR_KINDS, f"{values}: objects with no schema to check: {unchecked - OPERATOR_KINDS}"


@pytest.mark.parametrize("values", ["values-dev.yaml", "values-prod.yaml"])
def test_custom_resources_match_their_crd_schemas(helm: Helm, values: str) -> None:
    objects = helm.template(values, sets=EVERYTHING_ON, apis=OPERATOR_APIS)
    custom = [o for o in objects if (o["apiVersion"], o["kind"]) in OPERATOR_KINDS]
    if values == "values-prod.yaml":
        assert {o["kind"] for o in custom} == {"ServiceMonitor", "PrometheusRule", "ScaledObject", "HTTPRoute"}
    folder = crd_validator()
    with tempfile.TemporaryDirectory() as scratch:
        rendered = Path(scratch) / "custom.json"
        rendered.write_text(json.dumps(custom))
        result = subprocess.run(
            ["node", "validate.mjs", str(rendered)], capture_output=True, text=True, check=False, cwd=folder
        )
    assert result.returncode == 0, result.stderr
    verdicts = json.loads(result.stdout)
    assert len(verdicts) == len(custom)
    failed = [f"{v['kind']}/{v['name']}: {v['verdict']} {v['error']}" for v in verdicts if v["verdict"] != "valid"]
    assert not failed, f"{values}: custom resources their CRDs reject: {failed}"


def test_checkov_finds_nothing_beyond_the_justified_exceptions(helm: Helm) -> None:
    config = CHECKOV_CONFIG.read_text()
    skips = [line for line in config.splitlines() if line.startswith("  - CKV_")]
    assert skips, "the config skips nothing: drop the skip-check list instead"
    for line in skips:
        assert len(line.split("#", 1)[-1].strip()) >= 30 and "#" in line, f"unjustified exception: {line.strip()}"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for values in ("values-dev.yaml", "values-prod.yaml"):
            objects = helm.template(values, sets=EVERYTHING_ON, apis=OPERATOR_APIS)
            (folder / values).write_text(yaml.safe_dump_all(objects))
        (folder / "Dockerfile").write_text(DOCKERFILE.read_text())
        result = run_with((CHECKOV,), "checkov", "--config-file", str(CHECKOV_CONFIG), "-d", scratch, "-o", "json")
    assert result.returncode == 0, f"checkov failures:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}, "checkov scanned nothing"
    assert all(r["summary"]["passed"] > 0 for r in reports)


def test_every_container_has_probes_resources_and_a_locked_down_security_context(
    rendered: tuple[str, Objects],
) -> None:
    values, objects = rendered
    workloads = dict(pod_specs(objects))
    assert {f"Deployment/{component(s)}" for s in SERVICES} <= set(workloads)
    for workload, spec in workloads.items():
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, workload
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, workload
        assert spec["automountServiceAccountToken"] is False, workload
        for container in spec["containers"]:
            where = f"{values} {workload} container {container['name']}"
            if not workload.startswith("Job/"):
                assert "livenessProbe" in container, f"{where}: no liveness probe"
                assert "readinessProbe" in container, f"{where}: no readiness probe"
            resources = container["resources"]
            assert resources["requests"]["cpu"], where
            assert resources["requests"]["memory"], where
            assert resources["limits"]["memory"], where
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert security["runAsNonRoot"] is True, where


def test_our_containers_run_read_only_with_a_scratch_tmp(rendered: tuple[str, Objects]) -> None:
    values, objects = rendered
    ours = {f"Deployment/{component(s)}" for s in SERVICES} | {f"Job/{component('migrate')}"}
    for workload, spec in pod_specs(objects):
        if workload not in ours:
            continue
        (container,) = spec["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, f"{values} {workload}"
        scratch = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 - the pod's emptyDir, not a host temp file
        assert scratch in container["volumeMounts"], f"{values} {workload}"
        assert spec["securityContext"]["runAsUser"] == 10001, f"{values} {workload}: not the image's app user"


def test_campaign_apis_scratch_tmp_holds_the_largest_csv_upload(rendered: tuple[str, Objects]) -> None:
    # an import spools its upload to /tmp; a smaller emptyDir would evict the pod mid-upload
    values, objects = rendered
    spec = named(objects, "Deployment", component("campaign-api"))["spec"]["template"]["spec"]
    (tmp,) = (v for v in spec["volumes"] if v["name"] == "tmp")
    limit = tmp["emptyDir"]["sizeLimit"]
    assert limit.endswith("Mi"), f"{values}: {limit}"
    assert int(limit[:-2]) * 1024 * 1024 > Settings.model_fields["import_max_bytes"].default, f"{values}: {limit}"


def test_probes_hit_each_services_health_endpoints(dev_objects: Objects) -> None:
    for name, port in (("campaign-api", "http"), ("dispatch-worker", "metrics"), ("scheduler", "metrics")):
        (container,) = named(dev_objects, "Deployment", component(name))["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": port}
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port}
    (grpc,) = named(dev_objects, "Deployment", component("template-svc"))["spec"]["template"]["spec"]["containers"]
    assert grpc["livenessProbe"]["grpc"] == {"port": 50051}
    assert grpc["readinessProbe"]["grpc"] == {"port": 50051}


def test_services_expose_the_documented_ports(dev_objects: Objects) -> None:
    expected = {
        "campaign-api": {"http": 8080},
        "template-svc": {"grpc": 50051, "metrics": 8081},
        "dispatch-worker": {"metrics": 8082},
        "scheduler": {"metrics": 8083},
    }
    for name, ports in expected.items():
        service = named(dev_objects, "Service", component(name))
        assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == ports
        assert service["spec"]["selector"] == selector_of(name)


def test_settings_reach_the_services_and_credentials_only_those_that_need_them(dev_objects: Objects) -> None:
    config = named(dev_objects, "ConfigMap", component("settings"))["data"]
    assert config["TEMPLATE_SVC_ADDR"] == f"{component('template-svc')}:50051"
    assert config["CAMPAIGN_API_URL"] == f"http://{component('campaign-api')}:8080"
    # the relay and the workers declare the same queues: one setting feeds both, as JSON pydantic reads
    assert config["QUEUE_PREFIX"] == "campaign_sends"
    assert json.loads(config["RETRY_DELAYS_S"]) == [5, 30, 120]
    for name in SERVICES:
        (container,) = named(dev_objects, "Deployment", component(name))["spec"]["template"]["spec"]["containers"]
        secret_vars = {e["name"] for e in container["env"] if "valueFrom" in e}
        wanted = {"DATABASE_URL", "AMQP_URL"} if name in ("campaign-api", "dispatch-worker") else set()
        assert secret_vars == wanted, f"{name} gets {secret_vars}"


def test_production_reads_urls_from_an_existing_secret_and_stores_none(prod_objects: Objects) -> None:
    assert not [o for o in prod_objects if o["kind"] == "Secret"]
    api = named(prod_objects, "Deployment", component("campaign-api"))
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in api["spec"]["template"]["spec"]["containers"][0]["env"]
        if "valueFrom" in e
    }
    assert refs == {"campaign-dispatch-urls"}
    assert not [o for o in prod_objects if o["kind"] == "StatefulSet"], "production must not run dev databases"


def test_production_refuses_to_render_without_an_existing_secret(helm: Helm) -> None:
    result = helm.run(
        "template", RELEASE, str(CHART), "-f", str(CHART / "values-prod.yaml"), "--set", "secrets.existingSecret="
    )
    assert result.returncode != 0
    assert "existingSecret" in result.stderr


def test_placeholder_urls_are_refused_outside_dev(helm: Helm) -> None:
    result = helm.run("template", RELEASE, str(CHART), "--set", "secrets.databaseUrl=postgresql://CHANGE_ME")
    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_migrations_run_as_a_hook_job_before_install_and_upgrade(prod_objects: Objects, dev_objects: Objects) -> None:
    job = named(prod_objects, "Job", component("migrate"))
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["campaign-api", "migrate"]
    assert container["image"] == "registry.example.com/campaign-dispatch/campaign-dispatch/campaign-api:0.1.0"
    # dev: the in-cluster database only exists once the release is installed
    dev_job = named(dev_objects, "Job", component("migrate"))
    assert dev_job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,pre-upgrade"


def test_template_svc_is_reachable_only_from_campaign_api_and_dispatch_worker(rendered: tuple[str, Objects]) -> None:
    _, objects = rendered
    policy = named(objects, "NetworkPolicy", component("template-svc"))["spec"]
    assert policy["podSelector"]["matchLabels"] == selector_of("template-svc")
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    grpc_rules = [r for r in policy["ingress"] if {"port": 50051, "protocol": "TCP"} in r["ports"]]
    assert len(grpc_rules) == 1
    peers = [p["podSelector"]["matchLabels"] for p in grpc_rules[0]["from"]]
    assert peers == [selector_of("campaign-api"), selector_of("dispatch-worker")]
    other_rules = [r for r in policy["ingress"] if r is not grpc_rules[0]]
    assert all(r["ports"] == [{"port": 8081, "protocol": "TCP"}] for r in other_rules), "only metrics besides gRPC"


def test_scheduler_egress_is_only_campaign_api_and_dns(dev_objects: Objects, prod_objects: Objects) -> None:
    policy = named(dev_objects, "NetworkPolicy", component("scheduler"))["spec"]
    assert policy["podSelector"]["matchLabels"] == selector_of("scheduler")
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    dns_rule, api_rule = policy["egress"]
    assert api_rule["to"] == [{"podSelector": {"matchLabels": selector_of("campaign-api")}}]
    assert api_rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert {(p["port"], p["protocol"]) for p in dns_rule["ports"]} == {(53, "UDP"), (53, "TCP")}
    # production exports traces: the OTLP collector's namespace on 4317, nothing else
    prod_rules = named(prod_objects, "NetworkPolicy", component("scheduler"))["spec"]["egress"]
    assert prod_rules[:2] == policy["egress"]
    (otlp,) = prod_rules[2:]
    assert otlp["ports"] == [{"port": 4317, "protocol": "TCP"}]
    assert otlp["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}]


def test_every_network_policy_selects_pods_the_chart_runs(rendered: tuple[str, Objects]) -> None:
    values, objects = rendered
    pod_labels = [o["spec"]["template"]["metadata"]["labels"] for o in objects if o["kind"] in WORKLOAD_KINDS]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert {p["metadata"]["name"] for p in policies} >= {component(s) for s in SERVICES}
    for policy in policies:
        wanted = policy["spec"]["podSelector"]["matchLabels"]
        assert any(wanted.items() <= labels.items() for labels in pod_labels), (
            f"{values}: NetworkPolicy {policy['metadata']['name']} selects no pod"
        )


def test_worker_scales_on_cpu_in_dev_and_on_queue_depth_in_prod(dev_objects: Objects, prod_objects: Objects) -> None:
    hpa = named(dev_objects, "HorizontalPodAutoscaler", component("dispatch-worker"))
    assert hpa["spec"]["scaleTargetRef"]["name"] == component("dispatch-worker")
    assert not [o for o in prod_objects if o["kind"] == "HorizontalPodAutoscaler"], "KEDA owns the HPA in prod"
    scaled = named(prod_objects, "ScaledObject", component("dispatch-worker"))
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == "campaign_sends"
    assert "replicas" not in named(prod_objects, "Deployment", component("dispatch-worker"))["spec"]


def test_each_service_has_a_disruption_budget_in_prod(prod_objects: Objects) -> None:
    for name in SERVICES:
        pdb = named(prod_objects, "PodDisruptionBudget", component(name))
        assert pdb["spec"]["selector"]["matchLabels"] == selector_of(name)


def test_ingress_routes_to_campaign_api(prod_objects: Objects) -> None:
    ingress = named(prod_objects, "Ingress", component("campaign-api"))["spec"]
    (rule,) = ingress["rules"]
    assert rule["host"] == "campaigns.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": component("campaign-api"), "port": {"name": "http"}}
    assert ingress["tls"][0]["hosts"] == ["campaigns.example.com"]


def test_monitoring_objects_carry_the_shipped_rules_and_dashboard(prod_objects: Objects) -> None:
    for name in SERVICES:
        monitor = named(prod_objects, "ServiceMonitor", component(name))["spec"]
        # the job label must be the bare service name the alert rules and dashboard query
        assert monitor["jobLabel"] == "app.kubernetes.io/component"
        assert monitor["selector"]["matchLabels"] == selector_of(name)
    rule = named(prod_objects, "PrometheusRule", RELEASE)
    shipped = yaml.safe_load((CHART / "files" / "prometheus" / "alerts.yml").read_text())
    assert rule["spec"]["groups"] == shipped["groups"]
    dashboard = named(prod_objects, "ConfigMap", component("dashboard"))
    shipped_json = (CHART / "files" / "grafana" / "campaign-dispatch.json").read_text()
    assert dashboard["data"]["campaign-dispatch.json"].strip() == shipped_json.strip()


def test_dev_values_bring_their_own_postgresql_and_rabbitmq(dev_objects: Objects) -> None:
    postgres = named(dev_objects, "StatefulSet", component("postgresql"))
    rabbit = named(dev_objects, "StatefulSet", component("rabbitmq"))
    assert postgres["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:16"
    assert rabbit["spec"]["template"]["spec"]["containers"][0]["image"] == "rabbitmq:3.13-management"
    urls = named(dev_objects, "Secret", component("settings"))["stringData"]
    assert urls["DATABASE_URL"].endswith(f"@{component('postgresql')}:5432/campaign_dispatch")
    assert urls["AMQP_URL"].endswith(f"@{component('rabbitmq')}:5672/")


def test_the_scheduler_reads_its_system_key_from_the_named_secret(prod_objects: list[dict[str, Any]]) -> None:
    scheduler = next(
        o for o in prod_objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("scheduler")
    )
    env = {e["name"]: e for e in scheduler["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    assert env["SCHEDULER_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "campaign-dispatch-scheduler-key",
        "key": "SCHEDULER_API_KEY",
    }


def test_production_refuses_to_render_without_the_schedulers_key(helm: Helm) -> None:
    result = helm.run(
        "template", RELEASE, str(CHART), "-f", str(CHART / "values-prod.yaml"), "--set", "scheduler.apiKeySecret.name="
    )
    assert result.returncode != 0
    assert "scheduler.apiKeySecret.name" in result.stderr


def env_of(objects: Objects, name: str) -> dict[str, Any]:
    """The first container's env of a Deployment, by variable name."""
    (container,) = named(objects, "Deployment", component(name))["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_kannel_is_off_unless_enabled(dev_objects: Objects, prod_objects: Objects) -> None:
    for objects in (dev_objects, prod_objects):
        assert not [o for o in objects if o["metadata"]["name"] == component("kannel")]
        assert not {"KANNEL_URL", "KANNEL_CREDENTIALS"} & set(env_of(objects, "dispatch-worker"))


def test_kannel_pod_runs_the_three_boxes_on_the_shared_config(kannel_dev_objects: Objects) -> None:
    config = named(kannel_dev_objects, "ConfigMap", component("kannel"))
    assert config["data"]["kannel.conf"] == kannel_config.deployed(), "the chart's file is the shared template's"
    spec = named(kannel_dev_objects, "Deployment", component("kannel"))["spec"]
    assert spec["replicas"] == 1
    pod = spec["template"]["spec"]
    commands = {c["name"]: c["command"] for c in pod["containers"]}
    ports = kannel_config.KannelPorts()
    assert commands == {
        "bearerbox": ["bearerbox", "-v", "1", "/etc/kannel/kannel.conf"],
        "smsbox": ["smsbox", "-v", "1", "/etc/kannel/kannel.conf"],
        "fakesmsc": ["fakesmsc", "-H", "127.0.0.1", "-r", str(ports.smsc), *kannel_config.FAKESMSC_ARGS],
    }
    for container in pod["containers"]:
        assert container["image"] == "localhost/campaign-dispatch/kannel:dev"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert mounts["/etc/kannel/kannel.conf"]["subPath"] == "kannel.conf"
        assert kannel_config.PRIVATE_FILE.startswith(mounts["/etc/kannel/private"]["mountPath"] + "/")
    private = next(v for v in pod["volumes"] if v["name"] == "private")
    assert private["secret"]["items"] == [{"key": "private.conf", "path": kannel_config.PRIVATE_FILE.rsplit("/")[-1]}]
    service = named(kannel_dev_objects, "Service", component("kannel"))["spec"]
    assert service["ports"] == [{"name": "sendsms", "port": ports.sendsms, "targetPort": "sendsms", "protocol": "TCP"}]
    assert service["selector"] == selector_of("kannel")


def test_kannel_dev_secret_is_the_sendsms_user_the_worker_sends_as(kannel_dev_objects: Objects) -> None:
    secret = named(kannel_dev_objects, "Secret", component("kannel"))["stringData"]
    assert secret["private.conf"] == kannel_config.sendsms_user("dispatch", "kannel-dev")
    assert secret["credentials"] == "dispatch:kannel-dev"
    env = env_of(kannel_dev_objects, "dispatch-worker")
    assert env["KANNEL_CREDENTIALS"] == {"secretKeyRef": {"name": component("kannel"), "key": "credentials"}}
    assert env["KANNEL_URL"] == f"http://{component('kannel')}:13013/cgi-bin/sendsms"
    assert env["CALLBACK_BASE_URL"] == f"http://{component('campaign-api')}:8080"
    # the seeded account's default SMS sender names that variable
    job = named(kannel_dev_objects, "Job", component("migrate"))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = " ".join(container["command"][2].split())
    assert script.startswith("campaign-api migrate && campaign-api seed && campaign-api senders ensure")
    assert "--provider kannel --channel sms" in script
    assert script.endswith("--default --credentials-ref KANNEL_CREDENTIALS")


def test_kannel_in_production_reads_the_existing_secret_and_stores_none(kannel_prod_objects: Objects) -> None:
    assert not [o for o in kannel_prod_objects if o["kind"] == "Secret" and "kannel" in o["metadata"]["name"]]
    env = env_of(kannel_prod_objects, "dispatch-worker")
    assert env["KANNEL_CREDENTIALS"] == {
        "secretKeyRef": {"name": "campaign-dispatch-kannel-sendsms", "key": "credentials"}
    }
    pod = named(kannel_prod_objects, "Deployment", component("kannel"))["spec"]["template"]["spec"]
    private = next(v for v in pod["volumes"] if v["name"] == "private")
    assert private["secret"]["secretName"] == "campaign-dispatch-kannel-sendsms"


def test_production_refuses_kannel_without_an_existing_secret(helm: Helm) -> None:
    result = helm.run(
        "template", RELEASE, str(CHART), "-f", str(CHART / "values-prod.yaml"), "--set", "kannel.enabled=true"
    )
    assert result.returncode != 0
    assert "kannel.existingSecret" in result.stderr


def test_kannel_is_reached_only_by_the_worker_and_calls_only_campaign_api(kannel_prod_objects: Objects) -> None:
    policy = named(kannel_prod_objects, "NetworkPolicy", component("kannel"))["spec"]
    assert policy["podSelector"]["matchLabels"] == selector_of("kannel")
    (ingress,) = policy["ingress"]
    assert ingress == {
        "ports": [{"port": 13013, "protocol": "TCP"}],
        "from": [{"podSelector": {"matchLabels": selector_of("dispatch-worker")}}],
    }
    dns, api = policy["egress"]
    assert {(p["port"], p["protocol"]) for p in dns["ports"]} == {(53, "UDP"), (53, "TCP")}
    assert api == {
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "to": [{"podSelector": {"matchLabels": selector_of("campaign-api")}}],
    }
    worker = named(kannel_prod_objects, "NetworkPolicy", component("dispatch-worker"))["spec"]
    assert {
        "ports": [{"port": 13013, "protocol": "TCP"}],
        "to": [{"podSelector": {"matchLabels": selector_of("kannel")}}],
    } in worker["egress"]
    # production admits campaign-api's port from the ingress controller only: Kannel's receipts are let in too
    api_policy = named(kannel_prod_objects, "NetworkPolicy", component("campaign-api"))["spec"]
    assert any(
        {"podSelector": {"matchLabels": selector_of("kannel")}} in rule.get("from", [])
        for rule in api_policy["ingress"]
    )

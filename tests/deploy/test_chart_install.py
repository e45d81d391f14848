"""What a real install needs beyond valid YAML: Helm's hook order, API-server name limits, network policies a
cluster enforces, CRDs that may be missing, Secrets Helm owns properly, and images that are never pulled."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from deploy_tools import CHART, OPERATOR_APIS, RELEASE, REPO_ROOT, SERVICES, Helm

Objects = list[dict[str, Any]]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
# Helm refuses release names longer than 53 characters; this one is as long as it allows
LONGEST_RELEASE = "campaign-dispatch-" + "x" * 35
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HOOK = "helm.sh/hook"
PROD = ("values-prod.yaml",)
DEV = ("values-dev.yaml",)


@dataclass(frozen=True, slots=True)
class DryRun:
    """What `helm install --dry-run` prints: the hooks, the release objects, and the notes."""

    hooks: Objects
    manifest: Objects
    notes: str


def dry_run_install(helm: Helm, *values: str, sets: tuple[str, ...] = ()) -> DryRun:
    """`helm install --dry-run=client` (no cluster, so no CRDs) split into hooks, manifest and notes."""
    argv = ["install", RELEASE, str(CHART), "--dry-run=client"]
    for name in values:
        argv += ["-f", str(CHART / name)]
    for pair in sets:
        argv += ["--set", pair]
    result = helm.run(*argv)
    if result.returncode != 0:
        pytest.fail(f"helm {' '.join(argv)} failed:\n{result.stderr}")
    out = result.stdout
    hooks_text = out.split("\nHOOKS:\n", 1)[1].split("\nMANIFEST:\n", 1)[0]
    manifest_text = out.split("\nMANIFEST:\n", 1)[1].split("\nNOTES:\n", 1)[0]
    notes = out.split("\nNOTES:\n", 1)[1] if "\nNOTES:\n" in out else ""
    return DryRun(
        hooks=[d for d in yaml.safe_load_all(hooks_text) if d],
        manifest=[d for d in yaml.safe_load_all(manifest_text) if d],
        notes=notes,
    )


def of_kind(objects: Objects, kind: str) -> Objects:
    """The objects of one kind."""
    return [o for o in objects if o["kind"] == kind]


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    """The one object of that kind and name."""
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def container_of(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    """The one container of a workload."""
    (container,) = named(objects, kind, name)["spec"]["template"]["spec"]["containers"]
    return container


def secret_refs(pod_spec: dict[str, Any]) -> set[str]:
    """The Secrets a pod reads with secretKeyRef."""
    return {
        env["valueFrom"]["secretKeyRef"]["name"]
        for container in pod_spec["containers"]
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }


def hook_events(obj: dict[str, Any]) -> set[str]:
    """The hook events of a hook object."""
    return set(obj["metadata"]["annotations"][HOOK].split(","))


def hook_weight(obj: dict[str, Any]) -> int:
    """A hook's weight (Helm's default is 0)."""
    return int(obj["metadata"]["annotations"].get("helm.sh/hook-weight", "0"))


def component(name: str, release: str = RELEASE) -> str:
    """The full name of one component's objects."""
    return f"{release}-{name}"


# ---- 1. the migration hook brings what it needs -----------------------------------------------------------------
HOOK_CASES = {
    "production, existing Secret": (PROD, ()),
    "production, operator Secrets": (
        PROD,
        (
            "secrets.existingSecret=",
            "secrets.database.secretName=pg-app",
            "secrets.rabbitmq.secretName=mq-default-user",
        ),
    ),
    "external URLs in values": (
        (),
        ("secrets.databaseUrl=postgresql://app:pw@db:5432/app", "secrets.amqpUrl=amqp://mq/"),
    ),
    "existing ServiceAccount": (PROD, ("serviceAccount.create=false", "serviceAccount.name=campaigns")),
}


@pytest.mark.parametrize("case", HOOK_CASES)
def test_pre_install_migration_job_finds_its_service_account_and_secret(helm: Helm, case: str) -> None:
    values, sets = HOOK_CASES[case]
    run = dry_run_install(helm, *values, sets=sets)
    (job,) = of_kind(run.hooks, "Job")
    assert "pre-install" in hook_events(job), case
    assert not of_kind(run.manifest, "Job"), "the migration Job must be a hook"
    spec = job["spec"]["template"]["spec"]
    # values name what exists before the install; everything else the Job uses must be an earlier hook of its events
    existing = {"campaigns", "default", "campaign-dispatch-urls", "pg-app", "mq-default-user"}
    needed = {("ServiceAccount", spec["serviceAccountName"])} | {("Secret", name) for name in secret_refs(spec)}
    for kind, name in needed:
        if name in existing:
            continue
        hooks = [o for o in of_kind(run.hooks, kind) if o["metadata"]["name"] == name]
        assert hooks, f"{case}: the pre-install Job needs {kind} {name}, which only exists after the hooks"
        (hook,) = hooks
        assert hook_events(job) <= hook_events(hook), f"{case}: {kind} {name} is not a hook of every Job event"
        assert hook_weight(hook) < hook_weight(job), f"{case}: {kind} {name} is created after the Job"


def test_hooks_are_listed_before_the_release_objects(helm: Helm) -> None:
    run = dry_run_install(helm, *PROD)
    assert {o["kind"] for o in run.hooks} == {"ServiceAccount", "Job"}
    assert all(HOOK in o["metadata"].get("annotations", {}) for o in run.hooks)
    assert not [o for o in run.manifest if HOOK in o["metadata"].get("annotations", {})]


# ---- 2 and 3. network policies ------------------------------------------------------------------------------------
def policies(objects: Objects) -> dict[str, dict[str, Any]]:
    """Every NetworkPolicy spec by name."""
    return {o["metadata"]["name"]: o["spec"] for o in of_kind(objects, "NetworkPolicy")}


def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    """True when the policy's pod selector matches the labels."""
    return bool(policy["podSelector"]["matchLabels"].items() <= labels.items())


def ports_of(rules: list[dict[str, Any]]) -> set[int]:
    """Every port the rules open."""
    return {port["port"] for rule in rules for port in rule["ports"]}


def test_prometheus_may_scrape_campaign_api(helm: Helm) -> None:
    objects = helm.template(*PROD, apis=OPERATOR_APIS)
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    rules = policies(objects)[component("campaign-api")]["ingress"]
    scrape = [r for r in rules if {"port": 8080, "protocol": "TCP"} in r["ports"] and monitoring in r.get("from", [])]
    assert scrape, "Prometheus (networkPolicy.metricsFrom) cannot reach campaign-api's /metrics on 8080"
    monitor = named(objects, "ServiceMonitor", component("campaign-api"))
    assert monitor["spec"]["endpoints"][0]["port"] == "http"


@pytest.mark.parametrize("values", [DEV, PROD])
def test_a_default_deny_covers_every_pod_and_each_gets_its_own_rules(helm: Helm, values: tuple[str, ...]) -> None:
    objects = helm.template(*values, apis=OPERATOR_APIS)
    specs = policies(objects)
    deny = specs[component("default-deny")]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny, "the default-deny must allow nothing"
    for workload in [o for o in objects if o["kind"] in WORKLOAD_KINDS]:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        where = f"{values[0]} {workload['kind']}/{workload['metadata']['name']}"
        assert selects(deny, labels), f"{where} escapes the default-deny"
        own = [s for n, s in specs.items() if n != component("default-deny") and selects(s, labels)]
        assert len(own) == 1, f"{where}: expected one policy of its own"
        assert set(own[0]["policyTypes"]) == {"Ingress", "Egress"}, where
        dns = [r for r in own[0]["egress"] if {"port": 53, "protocol": "UDP"} in r["ports"]]
        assert dns, f"{where} cannot resolve names"
        assert {"port": 53, "protocol": "TCP"} in dns[0]["ports"], f"{where}: DNS over TCP (large answers) is blocked"


def test_each_component_may_call_exactly_what_it_uses(helm: Helm) -> None:
    specs = policies(helm.template(*DEV))
    expected = {
        "campaign-api": {53, 5432, 5672, 50051},
        "dispatch-worker": {53, 5432, 5672, 50051},
        "template-svc": {53},
        "scheduler": {53, 8080},
        "migrate": {53, 5432},
        "postgresql": {53},
        "rabbitmq": {53},
    }
    for name, ports in expected.items():
        assert ports_of(specs[component(name)]["egress"]) == ports, name
    assert specs[component("migrate")]["ingress"] == [], "nothing calls the migration Job"
    prod = policies(helm.template(*PROD, apis=OPERATOR_APIS))
    # production: the external database and broker on their ports, and the OTLP collector
    assert ports_of(prod[component("campaign-api")]["egress"]) == {53, 5432, 5671, 5672, 50051, 4317}


def test_dns_egress_reaches_any_resolver_by_default_and_is_configurable(helm: Helm) -> None:
    # kube-dns in kube-system, CoreDNS under another label, or NodeLocal DNSCache on a link-local node address:
    # the default rule names no peer, so it works with each
    dns_rule = policies(helm.template(*DEV))[component("scheduler")]["egress"][0]
    assert ports_of([dns_rule]) == {53}
    assert "to" not in dns_rule
    restricted = policies(helm.template(*DEV, sets=("networkPolicy.dns.to[0].ipBlock.cidr=169.254.20.10/32",)))
    for name in (*SERVICES, "migrate"):
        assert restricted[component(name)]["egress"][0]["to"] == [{"ipBlock": {"cidr": "169.254.20.10/32"}}]


# ---- 4. what a real API server accepts ----------------------------------------------------------------------------
@pytest.mark.parametrize("values", [DEV, PROD])
def test_every_name_fits_with_the_longest_release_name(helm: Helm, values: tuple[str, ...]) -> None:
    assert len(LONGEST_RELEASE) == 53
    objects = helm.template(*values, apis=OPERATOR_APIS, release=LONGEST_RELEASE)
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        assert (kind, name) not in seen, f"two {kind} objects named {name}"
        seen.add((kind, name))
        # Services are DNS-1035 labels; every name here also becomes a label value somewhere (63 at most)
        assert len(name) <= 63 and DNS_LABEL.match(name), f"{kind} {name} ({len(name)} characters)"
        if kind == "StatefulSet":
            # its pods' controller-revision-hash label is "<name>-<10-character hash>"
            assert len(name) <= 52, f"StatefulSet {name} ({len(name)} characters)"
        for key, value in obj["metadata"].get("labels", {}).items():
            assert len(str(value)) <= 63, f"{kind} {name}: label {key}={value}"
    services = {o["metadata"]["name"] for o in of_kind(objects, "Service")}
    config = named(objects, "ConfigMap", component("settings", LONGEST_RELEASE)[:63])["data"]
    assert config["TEMPLATE_SVC_ADDR"].split(":")[0] in services
    assert config["CAMPAIGN_API_URL"].split("//")[1].split(":")[0] in services


def test_no_pod_points_at_a_service_account_that_does_not_exist(helm: Helm) -> None:
    for sets, expected in (
        (("serviceAccount.create=false",), "default"),
        (("serviceAccount.create=false", "serviceAccount.name=campaigns"), "campaigns"),
    ):
        objects = helm.template(*DEV, sets=sets, release=LONGEST_RELEASE)
        assert not of_kind(objects, "ServiceAccount"), sets
        ours = [o for o in objects if o["kind"] in ("Deployment", "Job")]
        assert len(ours) == 5
        for workload in ours:
            assert workload["spec"]["template"]["spec"]["serviceAccountName"] == expected, sets
    objects = helm.template(*DEV, release=LONGEST_RELEASE)
    accounts = {o["metadata"]["name"] for o in of_kind(objects, "ServiceAccount")}
    for workload in [o for o in objects if o["kind"] in ("Deployment", "Job")]:
        assert workload["spec"]["template"]["spec"]["serviceAccountName"] in accounts


# ---- 5. objects that need CRDs ------------------------------------------------------------------------------------
def test_objects_of_missing_crds_are_skipped_and_named_in_the_notes(helm: Helm) -> None:
    run = dry_run_install(helm, *PROD)
    kinds = {o["kind"] for o in run.manifest}
    assert not kinds & {"ServiceMonitor", "PrometheusRule", "ScaledObject"}
    # without KEDA the worker keeps scaling on CPU
    assert named(run.manifest, "HorizontalPodAutoscaler", component("dispatch-worker"))
    for crd in (
        "servicemonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
        "scaledobjects.keda.sh",
    ):
        assert crd in run.notes, f"NOTES do not name the missing {crd}"
    with_crds = helm.template(*PROD, apis=OPERATOR_APIS)
    assert {"ServiceMonitor", "PrometheusRule", "ScaledObject"} <= {o["kind"] for o in with_crds}
    assert not of_kind(with_crds, "HorizontalPodAutoscaler"), "KEDA owns the worker's HPA"


# ---- 6. Secrets ---------------------------------------------------------------------------------------------------
def test_the_chart_made_secret_is_a_release_object(helm: Helm) -> None:
    run = dry_run_install(helm, *DEV)
    settings = named(run.manifest, "Secret", component("settings"))
    assert HOOK not in settings["metadata"].get("annotations", {}), "uninstall, rollback and upgrade must own it"
    assert not [o for o in of_kind(run.hooks, "Secret") if o["metadata"]["name"] == component("settings")]


def test_production_reads_the_operators_secrets(helm: Helm) -> None:
    objects = helm.template(
        *PROD,
        sets=(
            "secrets.existingSecret=",
            "secrets.database.secretName=campaigns-db-app",
            "secrets.rabbitmq.secretName=campaigns-mq-default-user",
        ),
        apis=OPERATOR_APIS,
    )
    assert not of_kind(objects, "Secret"), "production stores no credentials"
    for name in ("campaign-api", "dispatch-worker"):
        env = container_of(objects, "Deployment", component(name))["env"]
        by_name = {e["name"]: e for e in env}
        assert by_name["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "campaigns-db-app", "key": "uri"}
        for var, key in (("AMQP_USERNAME", "username"), ("AMQP_PASSWORD", "password"), ("AMQP_HOST", "host")):
            ref = by_name[var]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "campaigns-mq-default-user", "key": key}
        assert by_name["AMQP_URL"]["value"] == "amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@$(AMQP_HOST):$(AMQP_PORT)/%2F"
        # Kubernetes expands $(VAR) only from variables defined earlier in the list
        order = [e["name"] for e in env]
        assert order.index("AMQP_URL") > max(order.index(v) for v in ("AMQP_USERNAME", "AMQP_PASSWORD", "AMQP_HOST"))
    job = container_of(objects, "Job", component("migrate"))
    assert {e["name"]: e for e in job["env"]}["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "campaigns-db-app"


# ---- 7. dev images ------------------------------------------------------------------------------------------------
def test_dev_images_are_the_local_ones_make_images_builds_and_are_never_pulled(helm: Helm) -> None:
    spec = importlib.util.spec_from_file_location("build_images", REPO_ROOT / "tools" / "build_images.py")
    assert spec is not None and spec.loader is not None
    build_images = importlib.util.module_from_spec(spec)
    sys.modules["build_images"] = build_images
    spec.loader.exec_module(build_images)
    objects = helm.template(*DEV)
    for name in SERVICES:
        container = container_of(objects, "Deployment", component(name))
        assert container["image"] == build_images.image_name(name, "dev")
        assert container["image"].startswith("localhost/"), "a bare name resolves to docker.io"
        assert container["imagePullPolicy"] == "Never"
    job = container_of(objects, "Job", component("migrate"))
    assert (job["image"], job["imagePullPolicy"]) == (build_images.image_name("campaign-api", "dev"), "Never")


# ---- 8. Gateway API -----------------------------------------------------------------------------------------------
def test_an_http_route_can_replace_the_ingress(helm: Helm) -> None:
    sets = (
        "campaignApi.ingress.enabled=false",
        "campaignApi.httpRoute.enabled=true",
        "campaignApi.httpRoute.parentRefs[0].name=public",
        "campaignApi.httpRoute.parentRefs[0].namespace=gateway-system",
        "campaignApi.httpRoute.hostnames[0]=campaigns.example.com",
    )
    objects = helm.template(*PROD, sets=sets, apis=OPERATOR_APIS)
    assert not of_kind(objects, "Ingress")
    route = named(objects, "HTTPRoute", component("campaign-api"))["spec"]
    assert route["parentRefs"] == [{"name": "public", "namespace": "gateway-system"}]
    assert route["hostnames"] == ["campaigns.example.com"]
    (rule,) = route["rules"]
    assert rule["backendRefs"] == [{"name": component("campaign-api"), "port": 8080}]
    without_crd = helm.template(*PROD, sets=sets, apis=OPERATOR_APIS[:3])
    assert not of_kind(without_crd, "HTTPRoute")
    result = helm.run(
        "template",
        RELEASE,
        str(CHART),
        "-f",
        str(CHART / PROD[0]),
        *(arg for pair in sets[:2] for arg in ("--set", pair)),
        "--api-versions",
        OPERATOR_APIS[3],
    )
    assert result.returncode != 0
    assert "parentRefs" in result.stderr


# ---- 9. observability on kind, and two releases in one Prometheus -------------------------------------------------
AGGREGATION = re.compile(r"\b(sum|max|min|avg|count)\s*(by\s*\(([^)]*)\))?\s*\(")


def test_every_alert_and_dashboard_aggregation_keeps_the_namespace() -> None:
    rules = yaml.safe_load((CHART / "files" / "prometheus" / "alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((CHART / "files" / "grafana" / "campaign-dispatch.json").read_text())
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    aggregations = 0
    for expr in exprs:
        for match in AGGREGATION.finditer(expr):
            aggregations += 1
            grouping = [label.strip() for label in (match.group(3) or "").split(",")]
            assert "namespace" in grouping, f"two releases add up in `{match.group(0)}` of: {expr.strip()}"
        assert "vector(0)" not in expr, f"a label-less fallback cannot match a namespace: {expr.strip()}"
    assert aggregations > 30


def test_observability_values_wire_the_chart_to_kube_prometheus_stack_and_the_collector(helm: Helm) -> None:
    objects = helm.template(*DEV, "values-dev-observability.yaml", apis=OPERATOR_APIS)
    stack = yaml.safe_load((CHART / "examples" / "kube-prometheus-stack.values.yaml").read_text())
    collector = yaml.safe_load((CHART / "examples" / "opentelemetry-collector.values.yaml").read_text())
    monitors = of_kind(objects, "ServiceMonitor")
    assert len(monitors) == 4
    assert all(m["metadata"]["labels"]["release"] == "kube-prometheus-stack" for m in monitors)
    assert stack["prometheus"]["prometheusSpec"]["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert stack["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"] is False
    assert of_kind(objects, "PrometheusRule")
    sidecar = stack["grafana"]["sidecar"]["dashboards"]
    dashboard = named(objects, "ConfigMap", component("dashboard"))
    assert dashboard["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
    endpoint = named(objects, "ConfigMap", component("settings"))["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint == "http://opentelemetry-collector.observability.svc:4317"
    assert collector["config"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    specs = policies(objects)
    scheduler = specs[component("scheduler")]["egress"]
    otlp = [r for r in scheduler if {"port": 4317, "protocol": "TCP"} in r["ports"]]
    assert otlp[0]["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}]
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    for name, port in (("campaign-api", 8080), ("template-svc", 8081), ("dispatch-worker", 8082), ("scheduler", 8083)):
        rules = specs[component(name)]["ingress"]
        assert any({"port": port, "protocol": "TCP"} in r["ports"] and monitoring in r.get("from", []) for r in rules)


# ---- the walk-through names only what exists ----------------------------------------------------------------------
def test_the_deploy_walkthrough_names_only_files_and_targets_that_exist() -> None:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    paths = set(re.findall(r"\b((?:charts|tests|tools|services|libs|observability)/[\w./-]*\w)", text))
    assert len(paths) > 10
    for path in sorted(paths):
        assert (REPO_ROOT / path).exists(), f"docs/deploy.md names {path}, which does not exist"
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in sorted(set(re.findall(r"`make ([a-z-]+)`|^\s+make ([a-z-]+)", text, flags=re.MULTILINE))):
        name = next(t for t in target if t)
        assert re.search(rf"^{name}:", makefile, flags=re.MULTILINE), f"docs/deploy.md runs `make {name}`"
    # the archives the kind and minikube steps load are the ones `make images` writes
    for service in SERVICES:
        assert f"dist/images/{service}.tar" in text or "dist/images/$s.tar" in text
    build_tool = (REPO_ROOT / "tools" / "build_images.py").read_text()
    assert 'ARCHIVES = REPO_ROOT / "dist" / "images"' in build_tool
    assert 'archive = out / f"{service}.tar"' in build_tool

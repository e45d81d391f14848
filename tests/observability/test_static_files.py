"""The dashboard, alert rules and collector/scrape/provisioning configs say what the platform's operators rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from catalogue_exporter import CATALOGUE
from observability_paths import ObservabilityFiles

SERVICE_TARGETS = {
    "campaign-api": "campaign-api:8080",
    "template-svc": "template-svc:8081",
    "dispatch-worker": "dispatch-worker:8082",
    "scheduler": "scheduler:8083",
}
REQUIRED_ALERTS = {
    "DispatchFailureRateHigh",
    "DispatchDeadLetterQueueGrowing",
    "OutboxBacklogGrowing",
    "DispatchWorkQueueNotDraining",
    "SchedulerLagHigh",
    "ServiceDown",
    "ApiErrorRatioHigh",
    "DeliveryRateFalling",
}


def load_yaml(path: Any) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def dashboard(files: ObservabilityFiles) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files.dashboard.read_text())
    return loaded


@pytest.fixture(scope="module")
def alert_rules(files: ObservabilityFiles) -> list[dict[str, Any]]:
    return [rule for group in load_yaml(files.alerts)["groups"] for rule in group["rules"]]


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_dashboard_is_a_current_grafana_dashboard_on_the_prometheus_datasource(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "campaign-dispatch"
    assert dashboard["schemaVersion"] >= 39
    for panel in panels_of(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(t["datasource"]["uid"] == "prometheus" for t in panel["targets"]), panel["title"]
    titles = [p["title"] for p in panels_of(dashboard)]
    assert len(titles) == len(set(titles))
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_offers_service_and_channel_filters(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert set(variables) == {"job", "channel"}
    for variable in variables.values():
        assert variable["datasource"]["uid"] == "prometheus"
        assert variable["includeAll"] and variable["multi"]
    exprs = [t["expr"] for p in panels_of(dashboard) for t in p["targets"]]
    assert any('job=~"$job"' in e for e in exprs)
    assert any('channel=~"$channel"' in e for e in exprs)


def test_dashboard_shows_what_operators_watch(dashboard: dict[str, Any]) -> None:
    exprs = " ".join(t["expr"] for p in panels_of(dashboard) for t in p["targets"])
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (namespace, le, route) "
            "(rate(http_server_request_duration_seconds_bucket" in exprs
        )
    assert 'up{job=~"$job"}' in exprs
    used = {name for names in CATALOGUE.values() for name in names if name in exprs}
    missing = {name for names in CATALOGUE.values() for name in names} - used
    assert not missing, f"catalogue metrics no panel shows: {sorted(missing)}"


def test_alert_rules_cover_the_failures_operators_page_on(alert_rules: list[dict[str, Any]]) -> None:
    names = {rule["alert"] for rule in alert_rules}
    assert names >= REQUIRED_ALERTS
    for rule in alert_rules:
        assert rule["for"], rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        for annotation in ("summary", "description", "runbook"):
            assert rule["annotations"].get(annotation), f"{rule['alert']} has no {annotation}"
    service_down = next(r for r in alert_rules if r["alert"] == "ServiceDown")
    assert all(job in service_down["expr"] for job in SERVICE_TARGETS)


def test_prometheus_scrapes_the_four_services_by_their_job_names(files: ObservabilityFiles) -> None:
    config = load_yaml(files.prometheus_config)
    scraped = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]] for job in config["scrape_configs"]
    }
    for job, target in SERVICE_TARGETS.items():
        assert scraped[job] == [target]
    assert config["rule_files"] == ["/etc/prometheus/rules/alerts.yml"]


def test_collector_receives_otlp_and_forwards_traces_to_jaeger(files: ObservabilityFiles) -> None:
    config = load_yaml(files.collector_config)
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    jaeger = [name for name in traces["exporters"] if name.startswith("otlp")]
    assert [config["exporters"][name]["endpoint"] for name in jaeger] == ["jaeger:4317"]
    assert all(p in config["processors"] for p in traces["processors"])


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboard_folder(files: ObservabilityFiles) -> None:
    datasources = load_yaml(files.grafana_datasources)["datasources"]
    assert [(d["uid"], d["type"], d["url"]) for d in datasources] == [
        ("prometheus", "prometheus", "http://prometheus:9090")
    ]
    providers = load_yaml(files.grafana_dashboards)["providers"]
    assert [(p["type"], p["folder"], p["options"]["path"]) for p in providers] == [
        ("file", "Campaign Dispatch", "/var/lib/grafana/dashboards")
    ]

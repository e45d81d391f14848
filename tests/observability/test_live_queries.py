"""A real Prometheus scrapes the metric catalogue; every dashboard query and alert expression runs on that data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from catalogue_exporter import serve_catalogue
from observability_paths import ObservabilityFiles, PrometheusBinaries
from promql_live_check import LiveReport, NamedQuery, QueryOutcome, ScrapeTarget, free_port, live_check, run_prometheus


def describe(outcomes: list[QueryOutcome]) -> str:
    return "\n".join(
        f"  {o.query.source}: status={o.status} type={o.result_type} series={o.series} error={o.error}\n"
        f"    {o.query.expr}"
        for o in outcomes
    )


@pytest.fixture(scope="module")
def report(
    prometheus_binaries: PrometheusBinaries, files: ObservabilityFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveReport]:
    """Scrape the catalogue exporter (plus one scheduler replica that is down) and run every query once."""
    with serve_catalogue() as exporters:
        # to check the running services instead, pass their addresses:
        # ScrapeTarget("campaign-api", "localhost:8080"), ScrapeTarget("template-svc", "localhost:8081"), ...
        targets = [ScrapeTarget(e.job, e.address) for e in exporters]
        targets.append(ScrapeTarget("scheduler", f"127.0.0.1:{free_port()}"))  # nothing listens: a replica is down
        yield live_check(
            prometheus_binaries.prometheus,
            targets,
            tmp_path_factory.mktemp("prometheus"),
            dashboard_path=files.dashboard,
            alerts_path=files.alerts,
        )


def test_every_dashboard_query_parses_and_returns_series(report: LiveReport) -> None:
    assert len(report.panels) >= 25
    failing = [o for o in report.panels if not o.is_vector or o.series == 0]
    assert not failing, "dashboard queries without data:\n" + describe(failing)


def test_every_dashboard_variable_finds_its_label_values(report: LiveReport) -> None:
    failing = [o for o in report.variables if not o.is_vector or o.series == 0]
    assert not failing, "template variables without values:\n" + describe(failing)
    assert {o.query.source for o in report.variables} == {"variable $job", "variable $channel"}


def test_every_alert_expression_parses_and_selects_the_scraped_series(report: LiveReport) -> None:
    # with the comparisons turned into `bool`, a query only comes back empty when it selects no series at all
    failing = [o for o in report.alert_signals if not o.is_vector or o.series == 0]
    assert not failing, "alert expressions that select nothing:\n" + describe(failing)


def test_every_alert_fires_against_the_degraded_platform(report: LiveReport, files: ObservabilityFiles) -> None:
    failing = [o for o in report.alerts if not o.is_vector or o.series == 0]
    assert not failing, "alerts that did not fire on a platform that fails in every way they watch:\n" + describe(
        failing
    )
    names = {rule["alert"] for group in yaml.safe_load(files.alerts.read_text())["groups"] for rule in group["rules"]}
    assert {o.query.source.removeprefix("alert ") for o in report.alerts} == names


def test_prometheus_evaluates_every_rule_without_error_and_holds_it_pending(report: LiveReport) -> None:
    unhealthy = [(r["name"], r.get("health"), r.get("lastError")) for r in report.rules if r.get("health") != "ok"]
    assert not unhealthy
    quiet = [r["name"] for r in report.rules if r["state"] not in {"pending", "firing"}]
    assert not quiet, f"rules Prometheus did not start alerting on: {quiet}"
    down = [a for r in report.rules if r["name"] == "ServiceDown" for a in r["alerts"]]
    assert [a["labels"]["job"] for a in down] == ["scheduler"]


def test_live_check_fails_loudly_on_a_query_prometheus_cannot_parse(
    prometheus_binaries: PrometheusBinaries, tmp_path: Path
) -> None:
    with run_prometheus(prometheus_binaries.prometheus, [], [], tmp_path) as prometheus:
        outcome = prometheus.outcome(NamedQuery("broken", "sum by (channel (rate(x[1m]))"))
        assert not outcome.is_vector
        assert outcome.status == "error"
        assert outcome.error

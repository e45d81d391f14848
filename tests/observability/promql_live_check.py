"""Run every dashboard query and every alert expression against a real Prometheus that scrapes given targets.

The extension point is `live_check(prometheus_binary, targets, workdir)`: today the tests hand it the in-test
catalogue exporter; pointing it at the running services is the same call with their addresses, e.g.
`[ScrapeTarget("campaign-api", "localhost:8080"), ScrapeTarget("template-svc", "localhost:8081"), ...]`.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import yaml

SCRAPE_INTERVAL_S: Final = 1
# the values Grafana substitutes for the dashboard's variables when "All" is selected
TEMPLATE_VALUES: Final[Mapping[str, str]] = {
    "job": ".*",
    "channel": ".*",
    "__rate_interval": "30s",
    "__interval": "5s",
    "__range": "5m",
}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
LABEL_VALUES = re.compile(r"^label_values\((?P<expr>.+),\s*(?P<label>\w+)\)$")
COMPARISON = re.compile(r"==|!=|>=|<=|>|<")


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    job: str
    address: str  # host:port serving /metrics


@dataclass(frozen=True, slots=True)
class NamedQuery:
    source: str  # where the query comes from, e.g. "panel 'Outbox backlog' A" or "alert ServiceDown"
    expr: str
    label: str | None = None  # for template variables: the label whose values the query must yield


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    query: NamedQuery
    status: str
    result_type: str | None
    series: int
    error: str | None

    @property
    def is_vector(self) -> bool:
        """True when Prometheus parsed and evaluated the query into an instant vector."""
        return self.status == "success" and self.result_type == "vector"


@dataclass(frozen=True, slots=True)
class LiveReport:
    panels: list[QueryOutcome]
    variables: list[QueryOutcome]
    alerts: list[QueryOutcome]
    alert_signals: list[QueryOutcome]  # each alert with its comparisons as `bool`: the signal behind the threshold
    rules: list[dict[str, Any]]  # /api/v1/rules entries after the rules were evaluated against the scraped data


def expand_variables(expr: str) -> str:
    """Substitute the dashboard's template variables the way Grafana does for 'All'."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in TEMPLATE_VALUES:
            raise KeyError(f"dashboard variable ${name} has no test value: add it to TEMPLATE_VALUES")
        return TEMPLATE_VALUES[name]

    return VARIABLE.sub(value, expr)


def dashboard_queries(dashboard: Mapping[str, Any]) -> list[NamedQuery]:
    """Every panel target's expression (rows' nested panels included), variables expanded."""
    queries = []
    stack = list(dashboard.get("panels", []))
    while stack:
        panel = stack.pop(0)
        stack.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            source = f"panel {panel['title']!r} {target['refId']}"
            queries.append(NamedQuery(source, expand_variables(target["expr"])))
    return queries


def variable_queries(dashboard: Mapping[str, Any]) -> list[NamedQuery]:
    """The series selectors behind each `label_values(expr, label)` template variable."""
    queries = []
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        raw = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = LABEL_VALUES.match(raw.strip())
        if match is None:
            raise ValueError(f"variable ${variable['name']} is not label_values(expr, label): {raw}")
        queries.append(NamedQuery(f"variable ${variable['name']}", match["expr"], match["label"]))
    return queries


def alert_queries(rules_document: Mapping[str, Any]) -> list[NamedQuery]:
    """Every alerting rule's expression."""
    return [
        NamedQuery(f"alert {rule['alert']}", rule["expr"].strip())
        for group in rules_document["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def comparisons_as_bool(expr: str) -> str:
    """Turn each top-level filtering comparison into `op bool`, so the query returns the signal, not only breaches."""
    out: list[str] = []
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(expr):
        char = expr[i]
        if quote is not None:
            out.append(char)
            if char == "\\":
                out.append(expr[i + 1])
                i += 1
            elif char == quote:
                quote = None
            i += 1
            continue
        if char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and (match := COMPARISON.match(expr, i)) is not None:
            out.append(match.group())
            i = match.end()
            if not expr[i:].lstrip().startswith("bool"):
                out.append(" bool")
            continue
        out.append(char)
        i += 1
    return "".join(out)


def free_port() -> int:
    """A localhost TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class RunningPrometheus:
    url: str
    client: httpx.Client

    def query(self, expr: str) -> dict[str, Any]:
        """Run an instant query; the JSON answer, errors included (Prometheus answers 400/422 for bad PromQL)."""
        response = self.client.post(f"{self.url}/api/v1/query", data={"query": expr})
        answer: dict[str, Any] = response.json()
        return answer

    def outcome(self, query: NamedQuery) -> QueryOutcome:
        """Run one named query and summarise the answer."""
        answer = self.query(query.expr)
        data = answer.get("data") or {}
        result = data.get("result")
        return QueryOutcome(
            query=query,
            status=answer.get("status", "?"),
            result_type=data.get("resultType"),
            series=len(result) if isinstance(result, list) else 0,
            error=answer.get("error"),
        )

    def rules(self) -> list[dict[str, Any]]:
        """The alerting rules as Prometheus evaluates them (state, health, last error)."""
        answer = self.client.get(f"{self.url}/api/v1/rules", params={"type": "alert"}).json()
        return [rule for group in answer["data"]["groups"] for rule in group["rules"]]

    def wait_for_scrapes(self, jobs: Sequence[str], scrapes: int, timeout_s: float) -> None:
        """Block until every job has been scraped at least `scrapes` times, or fail naming the laggards."""
        deadline = time.monotonic() + timeout_s
        missing: set[str] = set(jobs)
        while time.monotonic() < deadline:
            answer = self.query("min by (job) (count_over_time(up[1m]))")
            counts = {s["metric"]["job"]: float(s["value"][1]) for s in answer.get("data", {}).get("result", [])}
            missing = {job for job in jobs if counts.get(job, 0) < scrapes}
            if not missing:
                return
            time.sleep(0.2)
        raise TimeoutError(f"Prometheus did not scrape {sorted(missing)} {scrapes} times within {timeout_s}s")


def write_config(workdir: Path, targets: Sequence[ScrapeTarget], rule_files: Sequence[Path]) -> Path:
    """A Prometheus config scraping the targets every second and evaluating the rules every second."""
    jobs: dict[str, list[str]] = {}
    for target in targets:
        jobs.setdefault(target.job, []).append(target.address)
    config = {
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
            "scrape_timeout": f"{SCRAPE_INTERVAL_S}s",
            "evaluation_interval": f"{SCRAPE_INTERVAL_S}s",
        },
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": addresses}]} for job, addresses in jobs.items()
        ],
    }
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def run_prometheus(
    binary: str, targets: Sequence[ScrapeTarget], rule_files: Sequence[Path], workdir: Path, timeout_s: float = 20
) -> Iterator[RunningPrometheus]:
    """Start a Prometheus on a free localhost port with its own data directory; stop it afterwards."""
    config = write_config(workdir, targets, rule_files)
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=10) as client:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"prometheus exited with {process.returncode}: {read_tail(workdir)}")
                try:
                    if client.get(f"{url}/-/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"prometheus not ready within {timeout_s}s: {read_tail(workdir)}")
                time.sleep(0.1)
            yield RunningPrometheus(url, client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def read_tail(workdir: Path) -> str:
    """The end of the Prometheus log, for error messages."""
    return (workdir / "prometheus.log").read_text()[-2000:]


def live_check(
    prometheus_binary: str,
    targets: Sequence[ScrapeTarget],
    workdir: Path,
    dashboard_path: Path,
    alerts_path: Path,
    scrapes: int = 4,
    settle_s: float = 15,
) -> LiveReport:
    """Scrape the targets with a real Prometheus, then run every dashboard query and alert expression on the data."""
    dashboard = json.loads(dashboard_path.read_text())
    alerts = yaml.safe_load(alerts_path.read_text())
    with run_prometheus(prometheus_binary, targets, [alerts_path], workdir) as prometheus:
        prometheus.wait_for_scrapes(sorted({t.job for t in targets}), scrapes, timeout_s=settle_s)
        # let the rule manager evaluate at least twice over the scraped samples (it runs every second)
        time.sleep(2.5 * SCRAPE_INTERVAL_S)
        return LiveReport(
            panels=[prometheus.outcome(q) for q in dashboard_queries(dashboard)],
            variables=[prometheus.outcome(q) for q in variable_queries(dashboard)],
            alerts=[prometheus.outcome(q) for q in alert_queries(alerts)],
            alert_signals=[
                prometheus.outcome(NamedQuery(q.source, comparisons_as_bool(q.expr))) for q in alert_queries(alerts)
            ],
            rules=prometheus.rules(),
        )


def main() -> None:
    """Run the check against running services: `python promql_live_check.py campaign-api=localhost:8080 ...`."""
    import argparse
    import shutil
    import sys
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("targets", nargs="+", help="job=host:port, e.g. campaign-api=localhost:8080")
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "prometheus")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    targets = [ScrapeTarget(*item.split("=", 1)) for item in args.targets]
    with tempfile.TemporaryDirectory() as workdir:
        report = live_check(
            args.prometheus,
            targets,
            Path(workdir),
            dashboard_path=root / "charts" / "campaign-dispatch" / "files" / "grafana" / "campaign-dispatch.json",
            alerts_path=root / "charts" / "campaign-dispatch" / "files" / "prometheus" / "alerts.yml",
        )
    outcomes = [*report.panels, *report.variables, *report.alert_signals]
    for outcome in outcomes:
        print(f"{'ok ' if outcome.is_vector and outcome.series else 'NO '} {outcome.query.source}: {outcome.series}")
    sys.exit(0 if all(o.is_vector for o in outcomes) else 1)


if __name__ == "__main__":
    main()

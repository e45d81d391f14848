"""Typed values the observability fixtures hand to the tests: where the binaries and the checked files are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PrometheusBinaries:
    promtool: str
    prometheus: str


@dataclass(frozen=True, slots=True)
class ObservabilityFiles:
    alerts: Path
    dashboard: Path
    alerts_unit_tests: Path
    prometheus_config: Path
    collector_config: Path
    grafana_datasources: Path
    grafana_dashboards: Path

"""promtool accepts the alert rules and the Prometheus config, and the alerts fire exactly when they should."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from observability_paths import ObservabilityFiles, PrometheusBinaries


def promtool(binaries: PrometheusBinaries, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binaries.promtool, *args], capture_output=True, text=True, check=False, timeout=60, cwd=cwd)


def test_promtool_accepts_the_alert_rules(prometheus_binaries: PrometheusBinaries, files: ObservabilityFiles) -> None:
    result = promtool(prometheus_binaries, "check", "rules", str(files.alerts))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_accepts_the_prometheus_config_with_its_rules(
    prometheus_binaries: PrometheusBinaries, files: ObservabilityFiles, tmp_path: Path
) -> None:
    # the config names the path compose mounts the rules at; point it at the repository's copy to check both
    config = yaml.safe_load(files.prometheus_config.read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/alerts.yml"]
    config["rule_files"] = [str(files.alerts)]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    result = promtool(prometheus_binaries, "check", "config", str(checked))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_alerts_fire_on_bad_input_series_and_stay_quiet_on_healthy_ones(
    prometheus_binaries: PrometheusBinaries, files: ObservabilityFiles
) -> None:
    result = promtool(
        prometheus_binaries, "test", "rules", files.alerts_unit_tests.name, cwd=files.alerts_unit_tests.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

"""Alerts as code (deploy/helm/earmark/files/alerts.yaml): valid for Prometheus, each alert
unit-tested by promtool, and each with a runbook section in docs/operations.md. That
every query names a metric the service really exports is tests/e2e/test_monitoring_queries.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "helm" / "earmark" / "files" / "alerts.yaml"
ALERT_TESTS = ROOT / "deploy" / "monitoring" / "alerts.test.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"


def _alerts() -> list[dict[str, object]]:
    return [rule for group in YAML(typ="safe").load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)


def test_promtool_finds_the_rules_valid() -> None:
    checked = _promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in checked.stdout


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    tested = _promtool("test", "rules", str(ALERT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_promtool_would_catch_an_alert_that_never_fires(tmp_path: Path) -> None:
    """The unit tests can fail: with one alert's threshold out of reach, they do."""
    (tmp_path / "files").mkdir()
    broken = ALERTS.read_text().replace(
        "> 0.01\n        for: 5m\n        labels:\n          severity: critical",
        "> 0.9\n        for: 5m\n        labels:\n          severity: critical",
    )
    assert broken != ALERTS.read_text()
    (tmp_path / "files" / "alerts.yaml").write_text(broken)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "alerts.test.yaml").write_text(
        ALERT_TESTS.read_text().replace("../helm/earmark/files/alerts.yaml", "../files/alerts.yaml")
    )
    tested = _promtool("test", "rules", str(tmp_path / "tests" / "alerts.test.yaml"))
    assert tested.returncode != 0 and "EarmarkErrorRate" in tested.stdout + tested.stderr


@pytest.mark.parametrize("alert", [str(rule["alert"]) for rule in _alerts()])
def test_every_alert_is_tested_firing_and_has_a_runbook(alert: str) -> None:
    tests = YAML(typ="safe").load(ALERT_TESTS.read_text())["tests"]
    firing = [
        case
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["alertname"] == alert and case.get("exp_alerts")
    ]
    assert firing, f"no promtool test expects {alert} to fire"
    rule = next(r for r in _alerts() if r["alert"] == alert)
    anchor = str(rule["annotations"]["runbook_url"]).partition("#")[2]  # type: ignore[index]
    headings = [
        line.lstrip("#").strip() for line in OPERATIONS.read_text().splitlines() if line.startswith("#")
    ]
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
    assert anchor == alert.lower() and anchor in anchors, f"docs/operations.md has no section '{alert}'"

"""deploy/: the Prometheus alert rules pass promtool (syntax and their unit tests), and they
and the Grafana dashboard name only metrics the service exposes (config.metrics)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from config.metrics import metric_names

REPO_ROOT = Path(__file__).resolve().parents[2]
ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = REPO_ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "dashboard.json"
# The service's metric names: everything else in an expression is PromQL (functions, labels).
SERVICE_METRIC = re.compile(r"\beis_[a-zA-Z0-9_]+")
REQUIRED_ALERTS = {
    "IntegratorUnavailable",
    "JobFailuresRising",
    "RunSyncLagOverBudget",
    "WebhookDeadLetters",
    "WorkersAbsent",
}


def promtool() -> str:
    # Never a skip: `make test` installs Debian's `prometheus` package (scripts/test_tools.sh); a
    # machine without it must fail here rather than pass without checking the rules.
    path = shutil.which("promtool")
    assert path, (
        "promtool is not installed: install Debian's prometheus package "
        "(apt-get install prometheus), as make test does (scripts/test_tools.sh)"
    )
    return path


def alert_rules() -> list[dict]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    return [t["expr"] for p in panels(dashboard["panels"]) for t in p.get("targets", [])]


def test_promtool_accepts_the_alert_rules():
    result = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_the_alerts_fire_on_the_series_their_unit_tests_give():
    result = subprocess.run(
        [promtool(), "test", "rules", str(ALERT_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ALERT_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_an_operator_needs_are_there():
    names = {rule["alert"] for rule in alert_rules()}
    assert names >= REQUIRED_ALERTS, REQUIRED_ALERTS - names


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_names_only_metrics_the_service_exposes(rule):
    used = set(SERVICE_METRIC.findall(rule["expr"]))
    assert used, f"{rule['alert']} names no metric of the service"
    assert used <= metric_names(), used - metric_names()
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"]


def test_the_dashboard_is_json_and_names_only_metrics_the_service_exposes():
    expressions = dashboard_expressions()
    assert len(expressions) >= 15
    known = metric_names()
    for expression in expressions:
        used = set(SERVICE_METRIC.findall(expression))
        assert used, f"no metric of the service in {expression!r}"
        assert used <= known, (expression, used - known)


def test_every_metric_the_service_records_is_on_the_dashboard():
    shown = {name for e in dashboard_expressions() for name in SERVICE_METRIC.findall(e)}
    # A family is on the dashboard when any of its samples is (_total, _bucket, _sum...).
    families = {re.sub(r"_(total|bucket|sum|count|created)$", "", n) for n in shown}
    missing = (
        {
            n
            for n in metric_names()
            if not n.endswith(("_total", "_bucket", "_sum", "_count", "_created"))
        }
        - families
        - shown
    )
    assert not missing, missing


API_PATH = re.compile(r"\b(?:GET|POST|PATCH|PUT|DELETE) (/api/v1/[^\s?,;)]*)")


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_sends_the_operator_only_to_api_endpoints_that_exist(rule):
    """An alert's description is read at 3 a.m.: the endpoint it names must be one."""
    from django.urls import resolve

    text = " ".join(str(value) for value in rule["annotations"].values())
    for path in API_PATH.findall(text):
        concrete = re.sub(r"\{[^}]+\}", "x", path.rstrip("."))
        assert resolve(concrete).url_name != "api-unknown", f"{rule['alert']}: no {path}"


def series_units() -> list[tuple[str, str, str]]:
    """(panel, expression, unit the panel shows it in): the panel's unit, or an override of
    the query's (refId)."""
    shown = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        config = panel.get("fieldConfig", {})
        default = config.get("defaults", {}).get("unit")
        by_ref = {}
        for override in config.get("overrides", []):
            if override.get("matcher", {}).get("id") == "byFrameRefID":
                for prop in override.get("properties", []):
                    if prop.get("id") == "unit":
                        by_ref[override["matcher"]["options"]] = prop["value"]
        for target in panel.get("targets", []):
            unit = by_ref.get(target["refId"], default)
            shown.append((panel["title"], target["expr"], unit))
    return shown


def test_the_dashboard_shows_seconds_in_seconds_and_counts_as_counts():
    # A count on a panel in seconds reads "3 s" for 3 failed sync cycles; an age on a panel of
    # counts reads "2.5 K" for 41 minutes.
    wrong = [
        (title, expr, unit)
        for title, expr, unit in series_units()
        if ("_seconds" in expr) != (unit == "s")
    ]
    assert wrong == []

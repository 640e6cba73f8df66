"""Prometheus rules and Alertmanager routes of deploy/alerts: valid, unit-tested, and naming real metrics."""

import subprocess

import yaml

from tests.deploy.prom_tools import (
    ROOT,
    RULES,
    STANDARD_METRICS,
    metric_names,
    require_binary,
    server_metric_names,
)

ALERTS = ROOT / "deploy" / "alerts"
ALERTMANAGER = ALERTS / "alertmanager.yml"
RULE_TESTS = sorted((ALERTS / "tests").glob("*_test.yaml"))


def _rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_rules_pass_promtool_check() -> None:
    promtool = require_binary("promtool", "prometheus")
    result = _run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    promtool = require_binary("promtool", "prometheus")
    assert RULE_TESTS
    result = _run(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in _rules() if "alert" in rule}
    assert alerts - fired == set(), "alerts never shown to fire"
    assert alerts - quiet == set(), "alerts never shown to stay quiet"


def test_issue_alert_families_are_present() -> None:
    alerts = {rule["alert"]: rule for rule in _rules() if "alert" in rule}
    ratio = alerts["PromptSalesErrorRatioHigh"]
    assert "> 0.01" in ratio["expr"] and ratio["for"] == "5m" and ratio["labels"]["severity"] == "critical"
    text = RULES.read_text()
    for metric in (
        "promptsales_tool_latency_seconds_bucket",
        "http_requests_inflight",
        "container_cpu_usage_seconds_total",
        "promptsales_outbox_lag_seconds",
        "promptsales_webhook_deliveries_total",
    ):
        assert metric in text
    # 99.9 % availability: burn-rate thresholds are multiples of the 0.001 budget (SRE workbook pairs).
    fast = alerts["PromptSalesErrorBudgetBurnFast"]["expr"]
    assert "14.4 * 0.001" in fast and "6 * 0.001" in fast


def test_rules_name_only_exported_or_standard_metrics() -> None:
    rules = _rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    known = server_metric_names() | STANDARD_METRICS | recorded
    for rule in rules:
        assert metric_names(rule["expr"]) <= known, rule.get("alert") or rule.get("record")


def test_alertmanager_config_is_valid() -> None:
    amtool = require_binary("amtool", "prometheus-alertmanager")
    result = _run(amtool, "check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr


def test_critical_alerts_reach_email_and_the_sms_whatsapp_relay() -> None:
    amtool = require_binary("amtool", "prometheus-alertmanager")
    config = yaml.safe_load(ALERTMANAGER.read_text())
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    routed = {}
    for severity in ("critical", "warning"):
        result = _run(
            amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}", f"severity={severity}", "alertname=X"
        )
        assert result.returncode == 0, result.stderr
        routed[severity] = result.stdout.strip()
    critical = receivers[routed["critical"]]
    assert critical["email_configs"] and critical["webhook_configs"]
    assert all(hook["url"].startswith("http") for hook in critical["webhook_configs"])
    assert "webhook_configs" not in receivers[routed["warning"]], "warnings must not page the support group by SMS"
    severities = {rule["labels"]["severity"] for rule in _rules() if "alert" in rule}
    assert severities == {"critical", "warning"}


def test_alertmanager_config_holds_no_inline_secret() -> None:
    text = ALERTMANAGER.read_text()
    config = yaml.safe_load(text)
    assert "smtp_auth_password" not in config["global"]
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            assert "credentials" not in hook.get("http_config", {}).get("authorization", {})

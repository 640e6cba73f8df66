"""The Grafana dashboard: valid JSON whose every PromQL expression parses and names real metrics."""

import json
import re
import subprocess
from pathlib import Path

import yaml

from tests.deploy.prom_tools import (
    ROOT,
    RULES,
    STANDARD_METRICS,
    metric_names,
    require_binary,
    server_metric_names,
)

DASHBOARD = ROOT / "deploy" / "grafana" / "promptsales.json"
# Grafana's built-in interval variables, replaced by what Grafana would put there at a 30 s scrape.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$__interval": "30s", "$__range": "6h"}


def _expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    resolved = []
    for expr in exprs:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unresolved variable in {expr}"
        resolved.append(expr)
    return resolved


def test_every_expression_parses(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    # promtool has no parse command: a rules file of one recording rule per expression is parsed in full.
    rules = {"groups": [{"name": "dashboard", "rules": []}]}
    for index, expr in enumerate(_expressions()):
        rules["groups"][0]["rules"].append({"record": f"dashboard:expr_{index}", "expr": expr})
    path = tmp_path / "dashboard.rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_expression_is_caught(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    path = tmp_path / "broken.rules.yaml"
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "d", "rules": [{"record": "d:x", "expr": "sum(rate(x[5m])"}]}]})
    )
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, timeout=60, check=False)
    assert result.returncode != 0


def test_expressions_name_only_exported_or_standard_metrics() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    known = server_metric_names() | STANDARD_METRICS | recorded
    for expr in _expressions():
        assert metric_names(expr) <= known, expr


def test_dashboard_shows_the_main_figures() -> None:
    names = set().union(*(metric_names(expr) for expr in _expressions()))
    for metric in (
        "promptsales_tool_calls_total",
        "promptsales_tool_latency_seconds_bucket",
        "http_requests_inflight",
        "promptsales_outbox_lag_seconds",
        "promptsales_db_pool_checked_out",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
    ):
        assert metric in names
    text = DASHBOARD.read_text()
    assert re.search(r"sum by \(tool\) \(rate\(promptsales_tool_calls_total", text), "calls/s by tool"
    assert "histogram_quantile(0.5," in text and "histogram_quantile(0.99," in text


def test_metric_name_extraction_ignores_labels_functions_and_keywords() -> None:
    expr = 'sum by (le) (rate(a_total{job="x", b="c{d}"}[5m])) / on (job) group_left b:rec or vector(1)'
    assert metric_names(expr) == {"a_total", "b:rec"}

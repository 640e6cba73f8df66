"""Shared by the alerting and dashboard tests: find promtool/amtool, and list the metrics a PromQL text names."""

import os
import re
import shutil
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import create_async_engine

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.ops_metrics import DbPoolCollector
from promptsales.servers.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "alerts" / "promptsales.rules.yaml"

# Standard exporters' series the rules and the dashboard may name besides the server's own:
# cAdvisor (kubelet), kube-state-metrics v2 and Prometheus' own `up`.
STANDARD_METRICS = frozenset(
    {
        "up",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kube_pod_container_resource_requests",
        "kube_pod_container_resource_limits",
        "kube_horizontalpodautoscaler_status_current_replicas",
        "kube_horizontalpodautoscaler_spec_max_replicas",
    }
)
_KEYWORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS |= {"bool", "offset", "inf", "nan"}


def require_binary(name: str, package: str) -> str:
    """The binary's path; a failure under CI=true (scripts/test installs it), else a skip naming the package."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"{name} is not installed (Debian package {package}; scripts/test installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def _series_names(registry: CollectorRegistry) -> set[str]:
    # Labelled metrics have no samples until first used, so the names come from the families' types.
    return {family.name + suffix for family in registry.collect() for suffix in _SUFFIXES.get(family.type, ("",))}


def server_metric_names() -> set[str]:
    """Every series name the server's registry exports (counters with _total, histograms with _bucket ...)."""
    names = _series_names(Runtime(Settings()).registry)
    # The pool collector reports only with a started engine; an unconnected Postgres engine has a real pool.
    registry = CollectorRegistry()
    engine = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    registry.register(DbPoolCollector(lambda: engine))
    return names | _series_names(registry)


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects (label matchers, strings, groupings and function names removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names

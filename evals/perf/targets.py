"""The benchmark's targets (issue 13), checked against one run's figures: printed, never asserted.

CPU targets are relative to the bare FastMCP row of the same run (the framework's ceiling on that host), so
they mean the same on a slow and a fast machine; a run without that row cannot judge them ("not measured").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from measurement import LeakFigures, Measurement, find, rounded

# Share of the bare FastMCP row's calls per server-CPU-second each CRM call must reach.
RELATIVE_TARGETS = (("read", "crm_get_lead", 0.6), ("write", "crm_capture_lead", 0.3))
PACED_P99_TARGET_MS = 50.0
LEAK_GROWTH_TARGET_PCT = 5.0

Status = Literal["met", "missed", "not measured", "shown"]


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """A target line: what was measured (``measured`` for JSON, ``shown`` as printed) against what is wanted."""

    name: str
    measured: float
    shown: str
    wanted: str
    status: Status

    def to_json(self) -> dict[str, Any]:
        met = {"met": True, "missed": False}.get(self.status)
        return {
            "target": self.name,
            "measured": rounded(self.measured, 3),
            "wanted": self.wanted,
            "status": self.status,
            "met": met,
        }


def _verdict(ok: bool) -> Status:
    return "met" if ok else "missed"


def _fmt(value: float, digits: int = 0) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


def relative_check(name: str, row: Measurement, fastmcp: Measurement | None, share: float) -> TargetCheck:
    """``row``'s calls/srv-CPU-s as a share of the fastmcp row's; "not measured" without that row."""
    ratio = row.ratio_to(fastmcp)
    if fastmcp is None or math.isnan(ratio):
        return TargetCheck(name, math.nan, "—", f">= {share:.2f} x fastmcp (row not run)", "not measured")
    floor = share * fastmcp.calls_per_cpu_s
    shown = f"{ratio:.3f} ({_fmt(row.calls_per_cpu_s)})"
    return TargetCheck(name, ratio, shown, f">= {share:.2f} ({_fmt(floor)})", _verdict(ratio >= share))


def paced_p99_check(scenario: str, paced: Measurement) -> TargetCheck:
    p99 = paced.stats.percentile_ms(0.99)
    name = f"{scenario}: p99 ms at paced load"
    ok = not math.isnan(p99) and p99 <= PACED_P99_TARGET_MS
    return TargetCheck(name, p99, _fmt(p99, 1), f"<= {PACED_P99_TARGET_MS:.0f}", _verdict(ok))


def tenants_check(tenants: Measurement, write: Measurement | None) -> TargetCheck:
    """Writes spread over many tenants at least as fast (calls/s at saturation) as the one-tenant write row."""
    name = "tenants: write calls/s vs one tenant (write row)"
    rate = tenants.stats.calls_per_s
    if write is None:
        return TargetCheck(name, rate, _fmt(rate), ">= write row (not run)", "not measured")
    wanted = write.stats.calls_per_s
    return TargetCheck(name, rate, _fmt(rate), f">= {_fmt(wanted)}", _verdict(rate >= wanted))


def hot_tenant_check(write: Measurement) -> TargetCheck:
    """The one-hot-tenant write rate, for comparison with the figure recorded before a change (by hand)."""
    rate = write.stats.calls_per_s
    name = "write: hot single-tenant calls/s"
    return TargetCheck(name, rate, _fmt(rate), "not slower than before", "shown")


def leak_check(leak: LeakFigures) -> TargetCheck:
    """RSS growth from the sample after the warm calls to the one after the last call."""
    growth = leak.growth_pct
    name = f"leak: server RSS growth, {leak.warm_calls:,} → {leak.total_calls:,} calls (%)"
    wanted = f"<= +{LEAK_GROWTH_TARGET_PCT:.0f}"
    if math.isnan(growth):
        return TargetCheck(name, growth, "—", wanted, "not measured")
    return TargetCheck(name, growth, f"{growth:+.1f}", wanted, _verdict(growth <= LEAK_GROWTH_TARGET_PCT))


def target_checks(results: list[Measurement], leak: LeakFigures | None = None) -> list[TargetCheck]:
    """Every target whose scenario ran, in a fixed order."""
    checks: list[TargetCheck] = []
    fastmcp = find(results, "fastmcp")
    for scenario, tool, share in RELATIVE_TARGETS:
        if (saturated := find(results, scenario)) is not None:
            checks.append(relative_check(f"{scenario} ({tool}): calls/srv-CPU-s vs fastmcp", saturated, fastmcp, share))
        if (paced := find(results, scenario, "paced")) is not None:
            checks.append(paced_p99_check(scenario, paced))
    write = find(results, "write")
    if (tenants := find(results, "tenants")) is not None:
        checks.append(tenants_check(tenants, write))
    if write is not None:
        checks.append(hot_tenant_check(write))
    if leak is not None:
        checks.append(leak_check(leak))
    return checks

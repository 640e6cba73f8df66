"""Figures of the CRM benchmark: per-phase measurements, targets, the printed table and JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadgen import PhaseStats
from rich.console import Console
from rich.table import Table

READ_TARGET_CALLS_PER_CPU_S = 500.0
WRITE_TARGET_CALLS_PER_CPU_S = 250.0
PACED_P99_TARGET_MS = 50.0
EFFICIENCY_TARGETS = {"read": READ_TARGET_CALLS_PER_CPU_S, "write": WRITE_TARGET_CALLS_PER_CPU_S}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured phase: the client's view plus CPU charged to server, database and client."""

    scenario: str  # baseline | fastmcp | read | write
    phase: str  # saturation | paced
    stats: PhaseStats
    server_cpu_s: float
    db_cpu_s: float | None = None

    @property
    def label(self) -> str:
        return self.scenario if self.phase == "saturation" else f"{self.scenario} @ paced"

    @property
    def calls_per_cpu_s(self) -> float:
        return self.stats.ok / self.server_cpu_s if self.server_cpu_s > 0 else math.nan

    def cores(self, cpu_s: float | None) -> float:
        if cpu_s is None or not self.stats.wall_s:
            return math.nan
        return cpu_s / self.stats.wall_s

    def ratio_to(self, reference: Measurement | None) -> float:
        """``calls_per_cpu_s`` relative to a reference row (NaN without one)."""
        if reference is None or not reference.calls_per_cpu_s > 0:
            return math.nan
        return self.calls_per_cpu_s / reference.calls_per_cpu_s

    def to_json(self, baseline: Measurement | None, fastmcp: Measurement | None) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "phase": self.phase,
            **self.stats.summary(),
            "server_cpu_s": round(self.server_cpu_s, 3),
            "server_cores": _round(self.cores(self.server_cpu_s), 3),
            "db_cpu_s": None if self.db_cpu_s is None else round(self.db_cpu_s, 3),
            "db_cores": _round(self.cores(self.db_cpu_s), 3),
            "calls_per_server_cpu_s": _round(self.calls_per_cpu_s, 1),
            "ratio_to_baseline": _round(self.ratio_to(baseline), 4),
            "ratio_to_fastmcp": _round(self.ratio_to(fastmcp), 4),
        }


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """A target line: what was measured against what is wanted (printed, never asserted)."""

    name: str
    measured: float
    wanted: str
    met: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "measured": _round(self.measured, 2),
            "wanted": self.wanted,
            "met": self.met,
        }


def _round(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def find(results: list[Measurement], scenario: str, phase: str = "saturation") -> Measurement | None:
    return next((m for m in results if m.scenario == scenario and m.phase == phase), None)


def target_checks(results: list[Measurement]) -> list[TargetCheck]:
    checks: list[TargetCheck] = []
    for scenario, wanted in EFFICIENCY_TARGETS.items():
        if (saturated := find(results, scenario)) is not None:
            value = saturated.calls_per_cpu_s
            name = f"{scenario}: calls per server-CPU-second"
            checks.append(TargetCheck(name, value, f">= {wanted:.0f}", value >= wanted))
        if (paced := find(results, scenario, "paced")) is not None:
            p99 = paced.stats.percentile_ms(0.99)
            name = f"{scenario}: p99 ms at paced load"
            checks.append(TargetCheck(name, p99, f"<= {PACED_P99_TARGET_MS:.0f}", p99 <= PACED_P99_TARGET_MS))
    return checks


def _fmt(value: float, digits: int = 0) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


def _rate_cell(m: Measurement) -> str:
    achieved = _fmt(m.stats.calls_per_s)
    if m.stats.target_rate is None:
        return achieved
    return f"{achieved} / {_fmt(m.stats.target_rate)}"


def results_table(results: list[Measurement], title: str) -> Table:
    baseline, fastmcp = find(results, "baseline"), find(results, "fastmcp")
    table = Table(title=title, title_justify="left")
    headers = ("scenario", "calls/s", "calls/srv-CPU-s", "vs baseline", "vs fastmcp", "p50 ms", "p99 ms", "errors")
    for header in headers:
        table.add_column(header, justify="left" if header == "scenario" else "right")
    for header in ("server cores", "pg cores", "loadgen cores"):
        table.add_column(header, justify="right")
    for m in results:
        table.add_row(
            m.label,
            _rate_cell(m),
            _fmt(m.calls_per_cpu_s),
            _fmt(m.ratio_to(baseline), 3),
            _fmt(m.ratio_to(fastmcp), 3),
            _fmt(m.stats.percentile_ms(0.50), 1),
            _fmt(m.stats.percentile_ms(0.99), 1),
            str(m.stats.errors),
            _fmt(m.cores(m.server_cpu_s), 2),
            _fmt(m.cores(m.db_cpu_s), 2),
            _fmt(m.stats.loadgen_cpu_fraction, 3),
        )
    return table


def targets_table(checks: list[TargetCheck]) -> Table:
    table = Table(title="Targets (figures only; nothing is asserted)", title_justify="left")
    for header in ("target", "measured", "wanted", "status"):
        table.add_column(header, justify="left" if header == "target" else "right")
    for check in checks:
        status = "[green]met[/green]" if check.met else "[red]missed[/red]"
        table.add_row(check.name, _fmt(check.measured, 1), check.wanted, status)
    return table


def print_report(console: Console, results: list[Measurement], title: str) -> None:
    if not results:
        console.print("[yellow]no scenario produced figures[/yellow]")
        return
    console.print(results_table(results, title))
    console.print(
        "calls/s on paced rows: achieved / scheduled. Paced latency counts from when a call was due. "
        "vs baseline / vs fastmcp = calls/srv-CPU-s relative to the bare Starlette / bare FastMCP row. "
        "pg cores = Postgres backends of the bench database (not in calls/srv-CPU-s)."
    )
    if checks := target_checks(results):
        console.print(targets_table(checks))
    for m in results:
        if m.stats.errors:
            console.print(f"[red]{m.label}: {m.stats.errors} errors[/red]; most frequent: {m.stats.top_error()!r}")


def report_json(config: dict[str, Any], environment: dict[str, Any], results: list[Measurement]) -> dict[str, Any]:
    baseline, fastmcp = find(results, "baseline"), find(results, "fastmcp")
    return {
        "config": config,
        "environment": environment,
        "measurements": [m.to_json(baseline, fastmcp) for m in results],
        "targets": [check.to_json() for check in target_checks(results)],
    }

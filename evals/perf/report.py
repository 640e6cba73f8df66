"""The CRM benchmark's output: the figures table, the targets table, the leak run's memory, and JSON."""

from __future__ import annotations

import math
from typing import Any

from measurement import LeakFigures, Measurement, find
from rich.console import Console
from rich.table import Table
from targets import TargetCheck, target_checks

KIB_PER_MIB = 1024
STATUS_STYLE = {"met": "green", "missed": "red", "not measured": "yellow", "shown": "cyan"}


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
        style = STATUS_STYLE[check.status]
        table.add_row(check.name, check.shown, check.wanted, f"[{style}]{check.status}[/{style}]")
    return table


def leak_table(leak: LeakFigures) -> Table:
    table = Table(title="Server memory (VmRSS summed over the server's process tree)", title_justify="left")
    for header in (f"RSS after {leak.warm_calls:,} calls", f"RSS after {leak.total_calls:,} calls", "growth"):
        table.add_column(header, justify="right")
    mib = (_fmt(kib / KIB_PER_MIB, 1) + " MiB" for kib in (leak.rss_warm_kib, leak.rss_end_kib))
    table.add_row(*mib, f"{leak.growth_pct:+.2f} %")
    return table


def print_report(console: Console, results: list[Measurement], title: str, leak: LeakFigures | None = None) -> None:
    if not results:
        console.print("[yellow]no scenario produced figures[/yellow]")
        return
    console.print(results_table(results, title))
    console.print(
        "calls/s on paced rows: achieved / scheduled. Paced latency counts from when a call was due. "
        "vs baseline / vs fastmcp = calls/srv-CPU-s relative to the bare Starlette / bare FastMCP row. "
        "pg cores = Postgres backends of the bench database (not in calls/srv-CPU-s)."
    )
    if leak is not None:
        console.print(leak_table(leak))
    if checks := target_checks(results, leak):
        console.print(targets_table(checks))
        legend = []
        if any("vs fastmcp" in check.name for check in checks):
            legend.append(
                "vs fastmcp lines: measured = share of the fastmcp row's calls/srv-CPU-s (the row's own figure), "
                "wanted = the share (that many calls/srv-CPU-s)."
            )
        if any(check.status == "shown" for check in checks):
            legend.append("'shown' lines are for comparison by hand.")
        if legend:
            console.print(" ".join(legend))
    for m in results:
        if m.stats.errors:
            console.print(f"[red]{m.label}: {m.stats.errors} errors[/red]; most frequent: {m.stats.top_error()!r}")


def report_json(
    config: dict[str, Any],
    environment: dict[str, Any],
    results: list[Measurement],
    leak: LeakFigures | None = None,
) -> dict[str, Any]:
    baseline, fastmcp = find(results, "baseline"), find(results, "fastmcp")
    return {
        "config": config,
        "environment": environment,
        "measurements": [m.to_json(baseline, fastmcp) for m in results],
        "memory": None if leak is None else leak.to_json(),
        "targets": [check.to_json() for check in target_checks(results, leak)],
    }

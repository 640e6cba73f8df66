"""One-command throughput benchmark of the PromptSales suite's tools over streamable HTTP.

In one run it creates a scratch Postgres database, migrates it, starts the whole suite
(``promptsales serve --transport http``), a plain Starlette baseline and a bare FastMCP server
(one no-I/O tool, configured like the suite), drives them with the raw-socket load generator
(``loadgen.py``) and prints, per scenario: calls/s, calls per server-CPU-second, p50/p99
latency, errors, the CPU of server / Postgres backends / load generator, and the ratios to the
baseline and to the bare FastMCP server, then the targets (relative to the bare FastMCP row).
Reads, writes, campaign reads and copy generation are measured at saturation and then paced at a
fraction (default 70 %) of the saturated rate; writes spread over 50 tenants at saturation. Everything
started is stopped and the database dropped at the end, also on errors and signals. It prints
figures; it asserts nothing.

    .venv/bin/python evals/perf/bench_crm.py [--duration 8] [--warmup 2] [--connections 16]
        [--protocol modern|legacy] [--json-response | --sse] [--only read --only tenants ...]
        [--json-out FILE]
    .venv/bin/python evals/perf/bench_crm.py --only leak [--leak-calls 100000]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import config
from config import SCENARIOS, BenchConfig
from leak import run_leak
from loadgen import CallFactory, Endpoint, Protocol, SessionPool, process_cpu_seconds
from measurement import LeakFigures, Measurement
from phases import CpuProbe, saturate, saturate_then_pace
from report import print_report, report_json
from rich.console import Console
from scenarios import SCENARIO_FACTORIES as SCENARIO_FACTORIES
from scenarios import (
    baseline_factory,
    campaigns_factory,
    copy_factory,
    fastmcp_factory,
    read_factory,
    seed_campaigns,
    seed_leads,
    write_factory,
)
from services import StartupError, free_port, running_server, scratch_database
from suite import MIGRATE_TIMEOUT_S as MIGRATE_TIMEOUT_S
from suite import RunningSuite, migrate, running_suite, suite_env
from tenants import tenants_section

PERF_DIR = Path(__file__).resolve().parent
TABLE_WIDTH = 150
# Scenarios served by the suite without auth (one tenant); `tenants` gets a server of its own.
SUITE_SCENARIOS = ("read", "write", "campaigns", "copy", "leak")

__all__ = ["MIGRATE_TIMEOUT_S", "SCENARIO_FACTORIES", "BenchConfig", "main", "parse_args", "seed_leads", "suite_env"]


def parse_args(argv: Sequence[str] | None) -> BenchConfig:
    return config.parse_args(argv, __doc__)


@dataclass(slots=True)
class Figures:
    """Everything one run produced, filled in as the sections run."""

    results: list[Measurement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    leak: LeakFigures | None = None

    def ordered(self) -> list[Measurement]:
        """Rows in scenario order (the tenants row after write, wherever it ran)."""
        return sorted(self.results, key=lambda m: SCENARIOS.index(m.scenario))


# --------------------------------------------------------------------------- reference servers


def baseline_section(cfg: BenchConfig, logs: Path, figures: Figures, console: Console) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(PERF_DIR)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    console.print(f"[dim]starting baseline (Starlette + uvicorn) on :{port}[/dim]")
    with running_server("baseline", argv, os.environ, logs / "baseline.log", (port, "/readyz"), 30.0) as server:
        endpoint = Endpoint("127.0.0.1", port, "/rpc")
        asyncio.run(
            _closed_loop(endpoint, Protocol.PLAIN, baseline_factory, CpuProbe(server.pid), cfg, figures, "baseline")
        )


def fastmcp_section(cfg: BenchConfig, logs: Path, figures: Figures, console: Console) -> None:
    """The framework's ceiling: a bare FastMCP tool, same transport settings and protocol era as the suite."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bare_fastmcp_app:app", "--app-dir", str(PERF_DIR)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    env = os.environ | {
        "BARE_FASTMCP_JSON_RESPONSE": "1" if cfg.json_response else "0",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
    }
    console.print(f"[dim]starting bare FastMCP ({'json' if cfg.json_response else 'sse'}) on :{port}[/dim]")
    with running_server("fastmcp", argv, env, logs / "fastmcp.log", (port, "/readyz"), cfg.startup_timeout) as server:
        endpoint = Endpoint("127.0.0.1", port, "/mcp")
        asyncio.run(
            _closed_loop(endpoint, cfg.protocol, fastmcp_factory, CpuProbe(server.pid), cfg, figures, "fastmcp")
        )


async def _closed_loop(
    endpoint: Endpoint,
    protocol: Protocol,
    factory: CallFactory,
    probe: CpuProbe,
    cfg: BenchConfig,
    figures: Figures,
    scenario: str,
) -> None:
    """Warm up, then one saturation phase; notes a returned ``Mcp-Session-Id`` (everything here is stateless)."""
    async with SessionPool(endpoint, protocol, cfg.connections) as pool:
        figures.results.append(await saturate(pool, factory, probe, scenario, cfg))
        if pool.session_ids_seen:
            figures.notes.append(f"{scenario}: server returned Mcp-Session-Id on {pool.session_ids_seen} connections")


# --------------------------------------------------------------------------- the suite


def crm_section(cfg: BenchConfig, logs: Path, figures: Figures, console: Console) -> None:
    """One scratch database: the single-tenant scenarios on one server, then the tenants scenario on another."""
    data_dir = logs / "data"  # the suite's local keys (and the dev issuer's) live here, not in the user's home
    with scratch_database(cfg.pg) as database:
        console.print(f"[dim]created database {database}; migrating[/dim]")
        env = suite_env(cfg, database, data_dir)
        migrate(env, logs)
        if set(SUITE_SCENARIOS) & set(cfg.only):
            with running_suite(cfg, database, env, logs / "suite.log", console) as suite:
                asyncio.run(_suite_load(suite, cfg, figures, console))
        if "tenants" in cfg.only:
            tenants_section(cfg, database, logs, data_dir, figures.results, figures.notes, console)


async def _suite_load(suite: RunningSuite, cfg: BenchConfig, figures: Figures, console: Console) -> None:
    endpoint, selected = suite.endpoint, set(cfg.only)
    lead_ids: list[str] = []
    if {"read", "leak"} & selected:
        console.print(f"[dim]capturing {cfg.leads} leads for the read scenarios[/dim]")
        lead_ids = await seed_leads(endpoint, cfg.protocol, cfg.leads)
    factories: dict[str, CallFactory] = {}
    if "read" in selected:
        factories["read"] = read_factory(lead_ids)
    if "write" in selected:
        factories["write"] = write_factory
    if "campaigns" in selected:
        console.print(f"[dim]planning {cfg.campaigns} campaigns for the campaigns scenario[/dim]")
        factories["campaigns"] = campaigns_factory(await seed_campaigns(endpoint, cfg.protocol, cfg.campaigns))
    if "copy" in selected:
        factories["copy"] = copy_factory
    for scenario, factory in factories.items():
        phases = f"warm-up {cfg.warmup:g} s, saturation {cfg.duration:g} s, paced {cfg.duration:g} s"
        console.print(f"[dim]{scenario}: {phases}[/dim]")
        async with SessionPool(endpoint, cfg.protocol, cfg.connections) as pool:
            figures.results.extend(await saturate_then_pace(pool, factory, suite.probe, scenario, cfg))
            if pool.session_ids_seen:
                figures.notes.append(
                    f"{scenario}: server returned Mcp-Session-Id on {pool.session_ids_seen} connections"
                )
    if "leak" in selected:
        measured, figures.leak = await run_leak(endpoint, suite.probe, suite.pid, lead_ids, cfg, console)
        figures.results.append(measured)


# --------------------------------------------------------------------------- entry point


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # let cleanup finish undisturbed
    raise KeyboardInterrupt(f"signal {signum}")


def environment() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(cfg: BenchConfig, console: Console, figures: Figures) -> int:
    """Run the selected sections; returns the exit status (figures are in ``figures``)."""
    with tempfile.TemporaryDirectory(prefix="promptsales-bench-") as tmp:
        try:
            if "baseline" in cfg.only:
                baseline_section(cfg, Path(tmp), figures, console)
            if "fastmcp" in cfg.only:
                fastmcp_section(cfg, Path(tmp), figures, console)
            if {*SUITE_SCENARIOS, "tenants"} & set(cfg.only):
                crm_section(cfg, Path(tmp), figures, console)
        except StartupError as exc:
            console.print(f"[red]could not run the benchmark:[/red] {exc}", markup=True, highlight=False)
            return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    console = Console(width=max(Console().width, TABLE_WIDTH))
    env = environment()
    mode = "json" if cfg.json_response else "sse"
    console.print(
        f"PromptSales benchmark: protocol={cfg.protocol.value} responses={mode} "
        f"connections={cfg.connections} warmup={cfg.warmup:g}s duration={cfg.duration:g}s "
        f"paced={cfg.paced_fraction:.0%} scenarios={','.join(cfg.only)} cpus={env['cpus']} "
        f"loadavg={env['loadavg'][0]:.2f}"
    )
    figures = Figures()
    started, cpu0 = time.monotonic(), process_cpu_seconds()
    status = 130
    try:
        status = run(cfg, console, figures)
    except KeyboardInterrupt as exc:
        console.print(f"[yellow]interrupted ({exc}); cleaned up[/yellow]")
    finally:
        env |= {
            "elapsed_s": round(time.monotonic() - started, 1),
            "bench_cpu_s": round(process_cpu_seconds() - cpu0, 2),
        }
        results = figures.ordered()
        title = f"PromptSales — {cfg.protocol.value}, {mode}, {cfg.connections} conns"
        print_report(console, results, title, figures.leak)
        for note in figures.notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        if cfg.json_out is not None:
            payload = report_json(cfg.to_json(), env, results, figures.leak)
            payload |= {"notes": figures.notes, "exit_status": status}
            cfg.json_out.write_text(json.dumps(payload, indent=2) + "\n")
            console.print(f"[dim]figures written to {cfg.json_out}[/dim]")
    return status


if __name__ == "__main__":
    sys.exit(main())

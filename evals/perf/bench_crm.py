"""One-command throughput benchmark of the PromptSales CRM tools over streamable HTTP.

In one run it creates a scratch Postgres database, migrates it, starts the whole suite
(``promptsales serve --transport http``), a plain Starlette baseline and a bare FastMCP server
(one no-I/O tool, configured like the suite), drives them with the raw-socket load generator
(``loadgen.py``) and prints, per scenario: calls/s, calls per server-CPU-second, p50/p99
latency, errors, the CPU of server / Postgres backends / load generator, and the ratios to the
baseline and to the bare FastMCP server. Read and write are measured at saturation and then
paced at a fraction (default 70 %) of the saturated rate. Everything started is stopped and the
database dropped at the end, also on errors and signals. It prints figures; it asserts nothing.

    .venv/bin/python evals/perf/bench_crm.py [--duration 8] [--warmup 2] [--connections 16]
        [--protocol modern|legacy] [--json-response | --sse] [--only baseline --only read ...]
        [--json-out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from loadgen import (
    REQUEST_TIMEOUT_S,
    CallFactory,
    Endpoint,
    JsonObject,
    Protocol,
    SessionPool,
    ToolSession,
    process_cpu_seconds,
)
from proctree import pids_cpu_seconds, tree_cpu_seconds
from report import Measurement, print_report, report_json
from rich.console import Console
from services import (
    BackendPids,
    Postgres,
    StartupError,
    free_port,
    run_command,
    running_server,
    scratch_database,
)

SCENARIOS = ("baseline", "fastmcp", "read", "write")
PERF_DIR = Path(__file__).resolve().parent
FASTMCP_TOOL = "echo_lead"
READ_TOOL = "crm_get_lead"
WRITE_TOOL = "crm_capture_lead"
MIGRATE_TIMEOUT_S = 120.0
TABLE_WIDTH = 150


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Command-line settings of one benchmark run."""

    duration: float
    warmup: float
    connections: int
    protocol: Protocol
    json_response: bool
    only: tuple[str, ...]
    leads: int
    paced_fraction: float
    startup_timeout: float
    mcp_path: str
    json_out: Path | None
    pg: Postgres

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"protocol": self.protocol.value, "json_out": self.json_out and str(self.json_out)}
        return data


def parse_args(argv: Sequence[str] | None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each scenario")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections, 1 call in flight each")
    parser.add_argument("--protocol", choices=["modern", "legacy"], default="modern", help="MCP protocol era")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json-response", dest="json_response", action="store_true", help="serve JSON responses")
    mode.add_argument("--sse", dest="json_response", action="store_false", help="serve SSE responses (default)")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios (repeatable)")
    parser.add_argument("--leads", type=int, default=50, help="leads captured before the read scenario")
    parser.add_argument("--paced-fraction", type=float, default=0.7, help="paced load as a fraction of saturation")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /readyz")
    parser.add_argument("--mcp-path", default="/mcp", help="MCP endpoint path of the suite")
    parser.add_argument("--json-out", type=Path, default=None, help="also write all figures to this JSON file")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    ns = parser.parse_args(argv)
    return BenchConfig(
        duration=ns.duration,
        warmup=ns.warmup,
        connections=ns.connections,
        protocol=Protocol(ns.protocol),
        json_response=ns.json_response,
        only=tuple(s for s in SCENARIOS if s in (ns.only or SCENARIOS)),
        leads=ns.leads,
        paced_fraction=ns.paced_fraction,
        startup_timeout=ns.startup_timeout,
        mcp_path=ns.mcp_path,
        json_out=ns.json_out,
        pg=Postgres(ns.pg_host, ns.pg_port, ns.pg_user),
    )


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """Cumulative CPU seconds of the server tree and of each database backend at one instant."""

    server_s: float
    backends_s: dict[int, float]


class CpuProbe:
    """Snapshots the CPU of the server's process tree and of the database's backends."""

    def __init__(self, server_pid: int, backends: BackendPids | None = None) -> None:
        self.server_pid = server_pid
        self.backends = backends

    def snapshot(self) -> CpuSnapshot:
        backends = pids_cpu_seconds(self.backends()) if self.backends else {}
        return CpuSnapshot(tree_cpu_seconds(self.server_pid), backends)

    def charge(self, before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, float | None]:
        """(server CPU s, DB CPU s) between two snapshots; backends that appeared count in full."""
        if self.backends is None:
            return after.server_s - before.server_s, None
        db = sum(cpu - before.backends_s.get(pid, 0.0) for pid, cpu in after.backends_s.items())
        return after.server_s - before.server_s, db


async def measure(
    pool: SessionPool,
    factory: CallFactory,
    probe: CpuProbe,
    label: tuple[str, str],
    duration: float,
    rate: float | None,
) -> Measurement:
    """Run one phase and charge the CPU it used."""
    before = probe.snapshot()
    stats = await pool.run(factory, duration, rate)
    server_cpu, db_cpu = probe.charge(before, probe.snapshot())
    return Measurement(label[0], label[1], stats, server_cpu, db_cpu)


async def saturate_then_pace(
    pool: SessionPool, factory: CallFactory, probe: CpuProbe, scenario: str, cfg: BenchConfig
) -> list[Measurement]:
    """Warm up, measure saturation, then a paced phase at ``paced_fraction`` of it."""
    if cfg.warmup > 0:
        await pool.run(factory, cfg.warmup)
    saturated = await measure(pool, factory, probe, (scenario, "saturation"), cfg.duration, None)
    rate = saturated.stats.calls_per_s * cfg.paced_fraction
    if rate <= 0:
        return [saturated]
    paced = await measure(pool, factory, probe, (scenario, "paced"), cfg.duration, rate)
    return [saturated, paced]


def baseline_factory(_connection: int, sequence: int) -> tuple[str, JsonObject]:
    return "crm_get_lead", {"lead_id": f"lead-{sequence % 50}"}


def fastmcp_factory(_connection: int, sequence: int) -> tuple[str, JsonObject]:
    return FASTMCP_TOOL, {"lead_id": f"lead-{sequence % 50}"}


def read_factory(lead_ids: Sequence[str]) -> CallFactory:
    def factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
        return READ_TOOL, {"lead_id": lead_ids[(connection * 7 + sequence) % len(lead_ids)]}

    return factory


def write_arguments(email: str, first_name: str) -> JsonObject:
    return {
        "email": email,
        "source_channel": "web_form",
        "first_name": first_name,
        "utm": {"source": "google", "medium": "cpc", "campaign": "bench"},
    }


def write_factory(connection: int, sequence: int) -> tuple[str, JsonObject]:
    return WRITE_TOOL, write_arguments(f"bench-{connection}-{sequence}@example.com", "Bench")


def _writes(_lead_ids: Sequence[str]) -> CallFactory:
    return write_factory


# Each scenario's calls, given the ids of the seeded leads.
SCENARIO_FACTORIES: dict[str, Callable[[Sequence[str]], CallFactory]] = {"read": read_factory, "write": _writes}


async def seed_leads(endpoint: Endpoint, protocol: Protocol, count: int) -> list[str]:
    """Capture ``count`` leads and return their ids (so reads hit existing rows)."""
    session = ToolSession(endpoint, protocol)
    ids: list[str] = []
    try:
        for index in range(count):
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                outcome = await session.call(WRITE_TOOL, write_arguments(f"seed-{index}@example.com", "Seed"))
            if not outcome.ok or outcome.result is None:
                raise StartupError(f"seeding with {WRITE_TOOL} failed: {outcome.error}")
            ids.append(str(outcome.result["structuredContent"]["lead"]["id"]))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise StartupError(f"seeding with {WRITE_TOOL} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        session.close()
    return ids


# --------------------------------------------------------------------------- sections


def baseline_section(cfg: BenchConfig, logs: Path, results: list[Measurement], console: Console) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(PERF_DIR)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    console.print(f"[dim]starting baseline (Starlette + uvicorn) on :{port}[/dim]")
    with running_server("baseline", argv, os.environ, logs / "baseline.log", (port, "/readyz"), 30.0) as server:
        endpoint = Endpoint("127.0.0.1", port, "/rpc")
        probe = CpuProbe(server.pid)
        asyncio.run(_closed_loop(endpoint, Protocol.PLAIN, baseline_factory, probe, cfg, results, "baseline"))


def fastmcp_section(
    cfg: BenchConfig, logs: Path, results: list[Measurement], notes: list[str], console: Console
) -> None:
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
        probe = CpuProbe(server.pid)
        seen = asyncio.run(_closed_loop(endpoint, cfg.protocol, fastmcp_factory, probe, cfg, results, "fastmcp"))
        if seen:
            notes.append(f"fastmcp: server returned Mcp-Session-Id on {seen} connections")


async def _closed_loop(
    endpoint: Endpoint,
    protocol: Protocol,
    factory: CallFactory,
    probe: CpuProbe,
    cfg: BenchConfig,
    results: list[Measurement],
    scenario: str,
) -> int:
    """Warm up, then one saturation phase; returns how many connections got an ``Mcp-Session-Id``."""
    async with SessionPool(endpoint, protocol, cfg.connections) as pool:
        if cfg.warmup > 0:
            await pool.run(factory, cfg.warmup)
        results.append(await measure(pool, factory, probe, (scenario, "saturation"), cfg.duration, None))
        return pool.session_ids_seen


def suite_env(cfg: BenchConfig, database: str) -> dict[str, str]:
    return os.environ | {
        "PROMPTSALES_DATABASE_URL": cfg.pg.sqlalchemy_url(database),
        "PROMPTSALES_TENANT": "bench",
        "PROMPTSALES_LOG_LEVEL": "warning",
        # One tenant at full speed would exceed the default per-tenant limits; this measures raw capacity.
        "PROMPTSALES_RATE_LIMITS_ENABLED": "false",
        # The write scenario creates thousands of contacts: no plan quota should stop it (entitlement checks
        # and metering still run on every call).
        "PROMPTSALES_DEFAULT_PLAN": "enterprise",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
    }


def crm_section(cfg: BenchConfig, logs: Path, results: list[Measurement], notes: list[str], console: Console) -> None:
    cli = str(Path(sys.executable).parent / "promptsales")
    with scratch_database(cfg.pg) as database:
        console.print(f"[dim]created database {database}; migrating[/dim]")
        env = suite_env(cfg, database)
        run_command([cli, "db", "upgrade"], env, MIGRATE_TIMEOUT_S, logs / "migrate.log")
        port = free_port()
        argv = [cli, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--json-response"] if cfg.json_response else []
        console.print(f"[dim]starting suite: {' '.join(argv[1:])}[/dim]")
        ready = (port, "/readyz")
        with running_server("promptsales", argv, env, logs / "suite.log", ready, cfg.startup_timeout) as server:
            backends = BackendPids(cfg.pg, database)
            try:
                endpoint = Endpoint("127.0.0.1", port, cfg.mcp_path)
                probe = CpuProbe(server.pid, backends)
                asyncio.run(_crm_load(endpoint, probe, cfg, results, notes, console))
            finally:
                backends.close()


async def _crm_load(
    endpoint: Endpoint,
    probe: CpuProbe,
    cfg: BenchConfig,
    results: list[Measurement],
    notes: list[str],
    console: Console,
) -> None:
    factories: dict[str, CallFactory] = {}
    if "read" in cfg.only:
        console.print(f"[dim]capturing {cfg.leads} leads for the read scenario[/dim]")
        factories["read"] = read_factory(await seed_leads(endpoint, cfg.protocol, cfg.leads))
    if "write" in cfg.only:
        factories["write"] = write_factory
    for scenario, factory in factories.items():
        phases = f"warm-up {cfg.warmup:g} s, saturation {cfg.duration:g} s, paced {cfg.duration:g} s"
        console.print(f"[dim]{scenario}: {phases}[/dim]")
        async with SessionPool(endpoint, cfg.protocol, cfg.connections) as pool:
            results.extend(await saturate_then_pace(pool, factory, probe, scenario, cfg))
            if pool.session_ids_seen:
                notes.append(f"{scenario}: server returned Mcp-Session-Id on {pool.session_ids_seen} connections")


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


def run(cfg: BenchConfig, console: Console, results: list[Measurement], notes: list[str]) -> int:
    """Run the selected sections; returns the exit status (figures are in ``results``)."""
    with tempfile.TemporaryDirectory(prefix="promptsales-bench-") as tmp:
        try:
            if "baseline" in cfg.only:
                baseline_section(cfg, Path(tmp), results, console)
            if "fastmcp" in cfg.only:
                fastmcp_section(cfg, Path(tmp), results, notes, console)
            if {"read", "write"} & set(cfg.only):
                crm_section(cfg, Path(tmp), results, notes, console)
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
        f"PromptSales CRM benchmark: protocol={cfg.protocol.value} responses={mode} "
        f"connections={cfg.connections} warmup={cfg.warmup:g}s duration={cfg.duration:g}s "
        f"paced={cfg.paced_fraction:.0%} cpus={env['cpus']} loadavg={env['loadavg'][0]:.2f}"
    )
    results: list[Measurement] = []
    notes: list[str] = []
    started, cpu0 = time.monotonic(), process_cpu_seconds()
    status = 130
    try:
        status = run(cfg, console, results, notes)
    except KeyboardInterrupt as exc:
        console.print(f"[yellow]interrupted ({exc}); cleaned up[/yellow]")
    finally:
        env |= {
            "elapsed_s": round(time.monotonic() - started, 1),
            "bench_cpu_s": round(process_cpu_seconds() - cpu0, 2),
        }
        print_report(console, results, f"PromptSales CRM — {cfg.protocol.value}, {mode}, {cfg.connections} conns")
        for note in notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        if cfg.json_out is not None:
            payload = report_json(cfg.to_json(), env, results) | {"notes": notes, "exit_status": status}
            cfg.json_out.write_text(json.dumps(payload, indent=2) + "\n")
            console.print(f"[dim]figures written to {cfg.json_out}[/dim]")
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Where a CRM tool call's server CPU goes: py-spy samples the suite while one scenario runs at saturation.

Brings the suite up exactly as ``bench_crm.py`` does (scratch database, migrations, ``promptsales serve``),
drives one scenario closed-loop, and records the server with ``py-spy record --format raw`` (collapsed
stacks, idle frames excluded). It then prints the share of on-CPU samples by owner of the innermost frame
(framework, ORM/driver, validation, our code, ...) and the inclusive share of the heaviest PromptSales
functions. The raw stacks are kept (``--out``) for a flame graph (e.g. speedscope.app or flamegraph.pl).

    .venv/bin/pip install py-spy      # not a project dependency; needs ptrace on the server process
    .venv/bin/python evals/perf/profile_crm.py --scenario write --seconds 15 [--out /tmp/write.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench_crm import (
    MIGRATE_TIMEOUT_S,
    SCENARIO_FACTORIES,
    BenchConfig,
    parse_args,
    seed_leads,
    suite_env,
)
from loadgen import Endpoint, SessionPool
from services import free_port, run_command, running_server, scratch_database

# Innermost-frame owners, matched against py-spy's "function (package/module.py:line)" frames in this order.
OWNERS: tuple[tuple[str, str], ...] = (
    ("(domain_core/", "ours: domain_core"),
    ("(servers/", "ours: servers"),
    ("(tools/", "ours: tools"),
    ("(sqlalchemy/", "SQLAlchemy"),
    ("(psycopg/", "psycopg"),
    ("(pydantic/", "pydantic"),
    ("(fastmcp/", "fastmcp"),
    ("(mcp/", "mcp SDK"),
    ("(starlette/", "starlette"),
    ("(uvicorn/", "uvicorn"),
    ("(anyio/", "anyio"),
    ("(structlog/", "structlog"),
    ("(opentelemetry/", "opentelemetry"),
    ("(prometheus_client/", "prometheus_client"),
    ("(json/", "json (stdlib)"),
    ("(asyncio/", "asyncio (stdlib)"),
    ("(logging/", "logging (stdlib)"),
)
OUR_PACKAGES = ("(domain_core/", "(servers/", "(tools/")


def owner(frame: str) -> str:
    for marker, name in OWNERS:
        if marker in frame:
            return name
    return "other (stdlib, C, site-packages)"


def _function(frame: str) -> str:
    """``name (path:line)`` without the line, so a function's samples add up whatever line they were on."""
    name, _, location = frame.partition(" (")
    return f"{name} ({location.rpartition(':')[0]})"


def summarise(raw: Path, top: int) -> str:
    """Self-time by owner and inclusive time of our heaviest functions, from collapsed stacks."""
    self_by_owner: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_by_owner[owner(frames[-1])] += count
        for function in {_function(f) for f in frames if any(p in f for p in OUR_PACKAGES)}:
            inclusive[function] += count
    if not total:
        return "no samples (is ptrace allowed? try: sudo sysctl kernel.yama.ptrace_scope=0)"
    lines = [f"{total} on-CPU samples", "", "self time by owner of the innermost frame:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in self_by_owner.most_common()]
    lines += ["", f"inclusive time of the {top} heaviest PromptSales functions:"]
    lines += [f"  {share / total:6.1%}  {frame}" for frame, share in inclusive.most_common(top)]
    return "\n".join(lines)


async def drive(cfg: BenchConfig, port: int, scenario: str, seconds: float, pid: int, out: Path, rate: int) -> None:
    endpoint = Endpoint("127.0.0.1", port, cfg.mcp_path)
    lead_ids = await seed_leads(endpoint, cfg.protocol, cfg.leads)
    factory = SCENARIO_FACTORIES[scenario](lead_ids)
    async with SessionPool(endpoint, cfg.protocol, cfg.connections) as pool:
        await pool.run(factory, cfg.warmup)
        spy = [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
        spy += ["--format", "raw", "--output", str(out), "--duration", str(int(seconds)), "--rate", str(rate)]
        # Popen returns at once; py-spy must record while this loop drives the load, and is only waited for after.
        recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: ASYNC220
        stats = await pool.run(factory, seconds + 1)
        _, err = recorder.communicate(timeout=30)
        if recorder.returncode:
            raise SystemExit(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        print(f"{scenario}: {stats.calls_per_s:.0f} calls/s during the recording, {stats.errors} errors")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIO_FACTORIES), default="write")
    parser.add_argument("--seconds", type=float, default=15.0, help="recorded seconds")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="how many of our functions to list")
    parser.add_argument("--out", type=Path, default=None, help="keep the collapsed stacks here")
    own, rest = parser.parse_known_args(argv)
    cfg = parse_args(rest)
    with tempfile.TemporaryDirectory(prefix="promptsales-profile-") as tmp, scratch_database(cfg.pg) as database:
        logs, env = Path(tmp), suite_env(cfg, database)
        cli = str(Path(sys.executable).parent / "promptsales")
        run_command([cli, "db", "upgrade"], env, MIGRATE_TIMEOUT_S, logs / "migrate.log")
        port = free_port()
        argv_ = [cli, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
        out = own.out or logs / "stacks.txt"
        ready = (port, "/readyz")
        with running_server("promptsales", argv_, env, logs / "suite.log", ready, cfg.startup_timeout) as srv:
            asyncio.run(drive(cfg, port, own.scenario, own.seconds, srv.pid, out, own.rate))
        print(summarise(out, own.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

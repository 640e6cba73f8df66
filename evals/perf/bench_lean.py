"""Calls per server-CPU-second of ``lean_call_app`` in each mode, interleaved, on the same machine and run.

Each mode gets its own uvicorn process (1 worker, started and stopped in turn so they never compete), 16
keep-alive connections of modern ``tools/call`` to the no-I/O ``echo_lead``, a warm-up, then a measured
closed loop; server CPU is the process tree's ``utime+stime`` from ``/proc``. ``--rounds`` repeats the
whole sequence so noise shows; the table gives every round and each mode's median ratio to ``off`` (the
bare FastMCP reference). It prints figures and asserts nothing::

    .venv/bin/python evals/perf/bench_lean.py --rounds 3
    .venv/bin/python evals/perf/bench_lean.py --modes off inner --middleware --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import bare_fastmcp_app
import lean_call_app
from loadgen import Endpoint, JsonObject, Protocol, SessionPool
from proctree import tree_cpu_seconds
from services import free_port, http_status

PERF_DIR = Path(__file__).resolve().parent
READY_TIMEOUT_S = 60.0


def echo_call(_connection: int, sequence: int) -> tuple[str, JsonObject]:
    return bare_fastmcp_app.TOOL_NAME, {"lead_id": f"lead-{sequence % 50}"}


async def _drive(port: int, warmup: float, duration: float, pid: int) -> tuple[int, int, float, float]:
    """(ok calls, errors, server CPU seconds, wall seconds) of one measured closed loop."""
    async with SessionPool(Endpoint("127.0.0.1", port, "/mcp"), Protocol.MODERN, 16) as pool:
        await pool.run(echo_call, warmup)
        cpu_before, started = tree_cpu_seconds(pid), time.perf_counter()
        stats = await pool.run(echo_call, duration)
        cpu, wall = tree_cpu_seconds(pid) - cpu_before, time.perf_counter() - started
    summary = stats.summary()
    return int(summary["ok"]), int(summary["errors"]), cpu, wall


def measure(mode: str, *, middleware: bool, json_response: bool, warmup: float, duration: float) -> float:
    """Calls per server-CPU-second of one mode (a fresh server process)."""
    port = free_port()
    env = os.environ | {
        lean_call_app.MODE_ENV: mode,
        lean_call_app.MIDDLEWARE_ENV: "1" if middleware else "0",
        "BARE_FASTMCP_JSON_RESPONSE": "1" if json_response else "0",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
    }
    argv = [sys.executable, "-m", "uvicorn", "lean_call_app:app", "--app-dir", str(PERF_DIR), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(argv, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while http_status("127.0.0.1", port, "/readyz") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lean_call_app ({mode}) did not start")
            time.sleep(0.1)
        ok, errors, cpu, wall = asyncio.run(_drive(port, warmup, duration, server.pid))
    finally:
        server.terminate()
        server.wait(10)
    rate = ok / cpu if cpu > 0 else 0.0
    print(f"  {mode:6} {ok / wall:7.0f} calls/s  {rate:7.0f} calls/srv-CPU-s  {cpu / wall:4.2f} cores  {errors} errors")
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", choices=lean_call_app.MODES, default=list(lean_call_app.MODES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--middleware", action="store_true", help="one pass-through fastmcp middleware")
    parser.add_argument("--json-response", action="store_true", help="SDK path answers JSON (default SSE)")
    options = parser.parse_args(argv)
    modes = ["off", *[mode for mode in options.modes if mode != "off"]]
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for index in range(options.rounds):
        print(f"round {index + 1}/{options.rounds} (load average {os.getloadavg()[0]:.2f})")
        for mode in modes:
            rates[mode].append(
                measure(
                    mode,
                    middleware=options.middleware,
                    json_response=options.json_response,
                    warmup=options.warmup,
                    duration=options.duration,
                )
            )
    print("median calls/srv-CPU-s and ratio to off (the bare FastMCP path), per round ratio in brackets")
    for mode in modes:
        ratios = [rate / base for rate, base in zip(rates[mode], rates["off"], strict=True) if base > 0]
        median = statistics.median(rates[mode])
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"  {mode:6} {median:7.0f}  x{statistics.median(ratios) if ratios else 0:.2f} [{shown}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

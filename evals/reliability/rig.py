"""Scale-and-fault rig: 3 gateway replicas behind HAProxy on a throwaway Postgres and Redis, broken on purpose.

One command, bounded in time (about 7 minutes on a 2-vCPU VM)::

    .venv/bin/python evals/reliability/rig.py [--calls 30000] [--connections 24] [--json-out FILE]

It starts everything as child processes on loopback, drives idempotent CRM writes through the load balancer
while it kills a replica, restarts Postgres, cuts Redis and slows and partitions Postgres through a fault
proxy, then checks the database (verify.py) and prints per-window error rates, p99 and recovery times.
Exit status 0 only when every goal was met. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

# evals/perf is a folder of scripts importing each other by bare name: reuse its client and process helpers.
sys.path.append(str(Path(__file__).resolve().parents[1] / "perf"))

import psycopg
from cluster import PostgresCluster, Replica, free_port, replica_argv, start_haproxy, start_redis
from faultproxy import FaultProxy
from faults import run_schedule, schedule
from ledger import check_ledger
from loadgen import Endpoint, process_cpu_seconds
from services import ServerProcess, StartupError, run_command
from verify import audited_tenants, chain_results, database_facts, quota_mismatches, wait_for_delivery
from windows import QUIET, FaultWindow, WindowFigures, window_figures, window_of
from workload import run_load

from promptsales.servers.dev_issuer import DEV_ISSUER, mint_dev_token

DATABASE = "promptsales_rig"
MIGRATE_TIMEOUT_S = 180.0
READY_TIMEOUT_S = 90.0
SETTLE_TIMEOUT_S = 100.0
FAULT_ERROR_GOAL = 0.01
QUIET_ERROR_GOAL = 0.001
RECOVERY_GOAL_S = 10.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30_000, help="mutating calls to make (each retried until acked)")
    parser.add_argument("--connections", type=int, default=24, help="keep-alive client connections")
    parser.add_argument("--tenants", type=int, default=6, help="tenants (dev-issuer tokens), one per connection")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--max-load-seconds", type=float, default=360.0, help="stop the load then, calls or not")
    parser.add_argument("--fault-spacing", type=float, default=40.0, help="seconds between fault injections")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the figures here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data) afterwards")
    return parser.parse_args(argv)


def cli() -> str:
    return str(Path(sys.executable).parent / "promptsales")


def ensure_haproxy() -> None:
    """Debian's haproxy is the load balancer; install it when missing (we are root on a Debian machine)."""
    if shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StartupError("haproxy is missing: install Debian's haproxy package")
    print("haproxy missing: apt-get install -y haproxy", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "haproxy"], check=True, capture_output=True, timeout=300)


@contextlib.contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="promptsales-rig-"))
    root.chmod(0o755)  # the postgres OS user must reach its data folder inside
    try:
        yield root
    finally:
        if keep:
            print(f"kept {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)


def base_env(root: Path, pg_port: int, redis_port: int, audience: str) -> dict[str, str]:
    return os.environ | {
        "PROMPTSALES_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{DATABASE}",
        "PROMPTSALES_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PROMPTSALES_DATA_DIR": str(root / "data"),
        "PROMPTSALES_LOG_LEVEL": "warning",
        "PROMPTSALES_DATABASE_POOL_SIZE": "5",
        # Capacity under faults is measured, not the per-tenant limits (120 writes/min would refuse most calls).
        "PROMPTSALES_RATE_LIMITS_ENABLED": "false",
        "PROMPTSALES_DEFAULT_PLAN": "enterprise",
        "PROMPTSALES_AUTH_MODE": "dev",
        "PROMPTSALES_AUTH_AUDIENCE": audience,
        "PROMPTSALES_AUTH_ISSUER": DEV_ISSUER,
        "PROMPTSALES_AUTH_TENANT_CLAIM": "tenant",
        "PROMPTSALES_AUTH_ACTOR_CLAIM": "sub",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
        "FASTMCP_MCP_CAMELCASE_COMPAT": "false",
    }


async def run(options: argparse.Namespace) -> dict[str, object]:
    ensure_haproxy()
    started = time.monotonic()
    with workspace(options.keep) as root, contextlib.ExitStack() as stack:
        logs = root / "logs"
        logs.mkdir()
        postgres = PostgresCluster(root / "pg", free_port(), logs)
        postgres.init()
        postgres.start()
        stack.callback(postgres.stop)
        with psycopg.connect(postgres.conninfo(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        redis_server_port = free_port()
        redis = start_redis(root, redis_server_port, logs)
        stack.callback(redis.stop)
        pg_proxy, redis_proxy = FaultProxy(postgres.port), FaultProxy(redis_server_port)
        pg_port, redis_port = await pg_proxy.start(), await redis_proxy.start()
        lb_port = free_port()
        audience = f"http://127.0.0.1:{lb_port}/mcp"
        env = base_env(root, pg_port, redis_port, audience)
        migrate_env = env | {
            "PROMPTSALES_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{DATABASE}"
        }
        await asyncio.to_thread(
            run_command, [cli(), "db", "upgrade"], migrate_env, MIGRATE_TIMEOUT_S, logs / "migrate.log"
        )
        await asyncio.to_thread(run_command, [cli(), "auth", "dev-keys"], env, 60.0, logs / "dev-keys.log")
        tenants = [f"rig-tenant-{i}" for i in range(options.tenants)]
        tokens = {
            tenant: mint_dev_token(
                root / "data", tenant=tenant, subject="rig-agent", scopes="crm:read crm:write", expires_in=3600,
                audience=audience, issuer=DEV_ISSUER, tenant_claim="tenant",
            )
            for tenant in tenants
        }  # fmt: skip
        replicas = []
        for index in range(options.replicas):
            port = free_port()
            replica = Replica(index, [*replica_argv(cli(), port), "--json-response"], env, logs, port)
            replica.start()
            stack.callback(replica.stop)
            replicas.append(replica)
        await asyncio.gather(*(asyncio.to_thread(r.wait_ready, READY_TIMEOUT_S) for r in replicas))
        haproxy: ServerProcess = start_haproxy(root, lb_port, [r.port for r in replicas], logs)
        stack.callback(haproxy.stop)
        setup_s = time.monotonic() - started
        print(
            f"up in {setup_s:.0f} s: haproxy :{lb_port} -> replicas {[r.port for r in replicas]}, postgres "
            f":{postgres.port} (proxy :{pg_port}), redis (proxy :{redis_port}); logs in {logs}",
            flush=True,
        )

        faults = schedule(replicas[0], postgres, pg_proxy, redis_proxy, options.fault_spacing)
        cpu0 = sum(r.cpu_seconds() for r in replicas), process_cpu_seconds(), os.getloadavg()[0]
        t0 = time.monotonic()
        load_done = asyncio.Event()
        injector = asyncio.create_task(run_schedule(faults, t0, load_done))
        endpoint = Endpoint("127.0.0.1", lb_port, "/mcp")
        state = await run_load(endpoint, tokens, options.connections, options.calls, options.max_load_seconds, t0)
        load_s = time.monotonic() - t0
        load_done.set()
        replicas_cpu_s = sum(r.cpu_seconds() for r in replicas) - cpu0[0]
        cpu: dict[str, float | int | None] = {
            "replicas_cpu_s": round(replicas_cpu_s, 1),
            "rig_process_cpu_s": round(process_cpu_seconds() - cpu0[1], 1),
            "load_average_1m_before": round(cpu0[2], 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "cores": os.cpu_count(),
        }
        windows = await injector
        print(f"load: {len(state.calls)} calls in {load_s:.0f} s; faults: {[w.name for w in windows]}", flush=True)

        direct = postgres.conninfo(DATABASE)
        delivery, settle_s = await asyncio.to_thread(wait_for_delivery, direct, SETTLE_TIMEOUT_S)
        ledger = check_ledger(state.calls, await asyncio.to_thread(database_facts, direct))
        chains = await chain_results(
            f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{DATABASE}", audited_tenants(direct)
        )
        quotas = quota_mismatches(direct)
        figures = window_figures(state.calls, windows, load_s)
        await pg_proxy.stop()
        await redis_proxy.stop()
        result = report(options, state.calls, figures, windows, load_s, setup_s, settle_s, delivery, ledger, chains,
                        quotas, started)  # fmt: skip
        acked = sum(call.acked for call in state.calls)
        cpu["replica_cpu_ms_per_acked_call"] = round(1000 * replicas_cpu_s / acked, 1) if acked else None
        result["cpu"] = cpu
        return result


def report(
    options: argparse.Namespace,
    calls: Sequence[object],
    figures: list[WindowFigures],
    windows: Sequence[FaultWindow],
    load_s: float,
    setup_s: float,
    settle_s: float,
    delivery: object,
    ledger: object,
    chains: dict[str, str],
    quotas: list[str],
    started: float,
) -> dict[str, object]:
    from ledger import LedgerReport
    from verify import DeliveryFigures
    from windows import CallRecord

    assert isinstance(delivery, DeliveryFigures) and isinstance(ledger, LedgerReport)
    records = [c for c in calls if isinstance(c, CallRecord)]
    goals: dict[str, bool] = {
        "0 lost acknowledged writes": not ledger.lost,
        "0 duplicated acknowledged writes": not ledger.duplicated,
        "0 effects without a call": not ledger.phantom,
        "every audit chain verifies": all(v.startswith("ok") for v in chains.values()),
        "every event published and handled once per consumer": delivery.ok,
        "contacts quota equals live contacts": not quotas,
        f"{options.calls} calls made": len(records) >= options.calls,
    }
    for row in figures:
        limit = QUIET_ERROR_GOAL if row.name == QUIET else FAULT_ERROR_GOAL
        goals[f"{row.name}: first-attempt error rate < {limit:.1%}"] = row.first_attempt_error_rate < limit
        if row.recovery_s is not None:
            goals[f"{row.name}: recovery < {RECOVERY_GOAL_S:g} s"] = row.recovery_s < RECOVERY_GOAL_S
    result: dict[str, object] = {
        "calls": len(records),
        "acknowledged": sum(c.acked for c in records),
        "attempts": sum(len(c.attempts) for c in records),
        "kinds": {k: sum(c.kind == k for c in records) for k in sorted({c.kind for c in records})},
        "load_s": round(load_s, 1),
        "acked_per_s": round(sum(c.acked for c in records) / load_s, 1) if load_s else 0.0,
        "setup_s": round(setup_s, 1),
        "settle_s": round(settle_s, 1),
        "total_s": round(time.monotonic() - started, 1),
        "faults": [{"name": w.name, "start_s": round(w.start, 2), "end_s": round(w.end, 2)} for w in windows],
        "windows": [
            {
                "name": r.name,
                "seconds": r.seconds,
                "calls": r.calls,
                "first_attempt_errors": r.first_attempt_errors,
                "first_attempt_error_rate": round(r.first_attempt_error_rate, 5),
                "final_failures": r.final_failures,
                "p99_ms": None if math.isnan(r.p99_ms) else round(r.p99_ms, 1),
                "recovery_s": None if r.recovery_s is None else round(r.recovery_s, 2),
                "first_attempt_error_samples": r.error_samples,
            }
            for r in figures
        ],
        "error_samples": _error_samples(records),
        # Every failed attempt (the first 500): when it started, its call's key and first-attempt window, why.
        "failed_attempts": [
            {
                "t": round(a.start, 2),
                "key": c.key,
                "window": window_of(c.attempts[0].start, windows, c.attempts[0].end),
                "error": (a.error or "")[:90],
            }
            for c in records
            for a in c.attempts
            if not a.ok
        ][:500],
        "ledger": ledger.summary(),
        "delivery": {
            "events": delivery.events,
            "unpublished": delivery.unpublished,
            "expected_handlings": delivery.expected_handlings,
            "missing_handlings": delivery.missing_handlings,
            "unexpected_handlings": delivery.unexpected_handlings,
            "captures_without_touchpoint": delivery.captures_without_touchpoint,
            "examples": delivery.examples,
        },
        "audit_chains": chains,
        "quota_mismatches": quotas,
        "goals": goals,
    }
    return result


def _error_samples(records: Sequence[object]) -> dict[str, int]:
    from windows import CallRecord

    counts: dict[str, int] = {}
    for call in records:
        assert isinstance(call, CallRecord)
        for attempt in call.attempts:
            if not attempt.ok:
                text = (attempt.error or "?")[:120]
                counts[text] = counts.get(text, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1])[:8])


def print_report(result: dict[str, object]) -> None:
    print()
    print(f"{result['calls']} calls ({result['acknowledged']} acknowledged, {result['attempts']} attempts) in "
          f"{result['load_s']} s = {result['acked_per_s']} acknowledged/s; setup {result['setup_s']} s, "
          f"settle {result['settle_s']} s, total {result['total_s']} s")  # fmt: skip
    print(f"{'window':<20}{'s':>7}{'calls':>8}{'1st-err':>9}{'rate':>9}{'final':>7}{'p99 ms':>9}{'recovery s':>12}")
    windows = result["windows"]
    assert isinstance(windows, list)
    for w in windows:
        recovery = "-" if w["recovery_s"] is None else f"{w['recovery_s']:.2f}"
        p99 = "-" if w["p99_ms"] is None else f"{w['p99_ms']:.0f}"
        print(f"{w['name']:<20}{w['seconds']:>7.1f}{w['calls']:>8}{w['first_attempt_errors']:>9}"
              f"{w['first_attempt_error_rate']:>9.2%}{w['final_failures']:>7}{p99:>9}{recovery:>12}")  # fmt: skip
    for w in windows:
        if w["first_attempt_error_samples"]:
            print(f"  {w['name']} first-attempt errors: {json.dumps(w['first_attempt_error_samples'])}")
    print(f"cpu: {json.dumps(result['cpu'])}")
    print(f"ledger: {json.dumps(result['ledger'])}")
    print(f"delivery: {json.dumps(result['delivery'])}")
    print(f"audit chains: {json.dumps(result['audit_chains'])}")
    print(f"quota mismatches: {result['quota_mismatches']}")
    print(f"error samples: {json.dumps(result['error_samples'], indent=1)}")
    goals = result["goals"]
    assert isinstance(goals, dict)
    for name, met in goals.items():
        print(f"  [{'met' if met else 'MISSED'}] {name}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    result = asyncio.run(run(options))
    print_report(result)
    if options.json_out is not None:
        options.json_out.write_text(json.dumps(result, indent=2) + "\n")
    goals = result["goals"]
    assert isinstance(goals, dict)
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

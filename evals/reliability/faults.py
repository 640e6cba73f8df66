"""The fault schedule: what is broken when during the load, and when each fault counts as over.

Each fault is a coroutine that injects it, waits for it to end (or heals it), and returns; the window it
leaves behind runs from injection until the service is back (the killed replica ready again, Postgres
accepting connections again) or the fault was lifted (proxy faults).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from cluster import PostgresCluster, Replica
from faultproxy import FaultProxy
from windows import FaultWindow

REPLICA_READY_TIMEOUT_S = 60.0
REDIS_DOWN_S = 10.0
PG_LATENCY_S = 0.05
PG_LATENCY_FOR_S = 15.0
PG_PARTITION_S = 5.0


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault to inject ``at`` seconds into the load."""

    name: str
    at: float
    what: str
    inject: Callable[[], Awaitable[None]]


def schedule(
    replica: Replica, postgres: PostgresCluster, pg_proxy: FaultProxy, redis_proxy: FaultProxy, spacing_s: float
) -> list[Fault]:
    """Five faults, ``spacing_s`` apart, the first after one spacing of quiet load."""

    async def kill_replica() -> None:
        await asyncio.to_thread(replica.kill)
        replica.start()
        await asyncio.to_thread(replica.wait_ready, REPLICA_READY_TIMEOUT_S)

    async def restart_postgres() -> None:
        await asyncio.to_thread(postgres.restart_immediate)

    async def drop_redis() -> None:
        redis_proxy.refusing = True
        redis_proxy.drop_all()
        await asyncio.sleep(REDIS_DOWN_S)
        redis_proxy.refusing = False

    async def slow_postgres() -> None:
        pg_proxy.latency_s = PG_LATENCY_S
        await asyncio.sleep(PG_LATENCY_FOR_S)
        pg_proxy.latency_s = 0.0

    async def partition_postgres() -> None:
        pg_proxy.refusing = True
        pg_proxy.drop_all()
        await asyncio.sleep(PG_PARTITION_S)
        pg_proxy.refusing = False

    faults = [
        ("replica_sigkill", f"SIGKILL replica {replica.index}, start it again (window ends when /readyz is 200)",
         kill_replica),
        ("postgres_restart", "pg_ctl restart -m immediate (crash stop, recovery, start)", restart_postgres),
        ("redis_drop", f"proxy cuts every Redis connection and refuses new ones for {REDIS_DOWN_S:g} s", drop_redis),
        ("postgres_latency", f"proxy delays every Postgres chunk {PG_LATENCY_S * 1000:g} ms each way for "
         f"{PG_LATENCY_FOR_S:g} s", slow_postgres),
        ("postgres_partition", f"proxy cuts every Postgres connection and refuses new ones for {PG_PARTITION_S:g} s",
         partition_postgres),
    ]  # fmt: skip
    return [Fault(name, spacing_s * (i + 1), what, inject) for i, (name, what, inject) in enumerate(faults)]


async def run_schedule(faults: Sequence[Fault], t0: float, load_done: asyncio.Event) -> list[FaultWindow]:
    """Inject each fault at its time (skipping those the load did not last for); the windows they left."""
    windows: list[FaultWindow] = []
    for fault in faults:
        delay = t0 + fault.at - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(load_done.wait(), delay)
        if load_done.is_set():
            break
        start = time.monotonic() - t0
        await fault.inject()
        windows.append(FaultWindow(fault.name, start, time.monotonic() - t0))
    return windows

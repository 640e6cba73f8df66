"""Measured phases: warm-up, saturation (closed loop) and paced load on a session pool, with the CPU each used."""

from __future__ import annotations

from dataclasses import dataclass

from config import BenchConfig
from loadgen import CallFactory, SessionPool
from measurement import Measurement
from proctree import pids_cpu_seconds, tree_cpu_seconds
from services import BackendPids


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
    max_calls: int | None = None,
) -> Measurement:
    """Run one phase and charge the CPU it used."""
    before = probe.snapshot()
    stats = await pool.run(factory, duration, rate, max_calls)
    server_cpu, db_cpu = probe.charge(before, probe.snapshot())
    return Measurement(label[0], label[1], stats, server_cpu, db_cpu)


async def saturate(
    pool: SessionPool, factory: CallFactory, probe: CpuProbe, scenario: str, cfg: BenchConfig
) -> Measurement:
    """Warm up, then measure one closed-loop phase."""
    if cfg.warmup > 0:
        await pool.run(factory, cfg.warmup)
    return await measure(pool, factory, probe, (scenario, "saturation"), cfg.duration, None)


async def saturate_then_pace(
    pool: SessionPool, factory: CallFactory, probe: CpuProbe, scenario: str, cfg: BenchConfig
) -> list[Measurement]:
    """Warm up, measure saturation, then a paced phase at ``paced_fraction`` of it."""
    saturated = await saturate(pool, factory, probe, scenario, cfg)
    rate = saturated.stats.calls_per_s * cfg.paced_fraction
    if rate <= 0:
        return [saturated]
    paced = await measure(pool, factory, probe, (scenario, "paced"), cfg.duration, rate)
    return [saturated, paced]

"""What one benchmark run measured: a phase's client view plus the CPU charged to it, and the leak run's memory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadgen import PhaseStats


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured phase: the client's view plus CPU charged to server, database and client."""

    scenario: str  # baseline | fastmcp | read | write | tenants | campaigns | copy | leak
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
            "server_cores": rounded(self.cores(self.server_cpu_s), 3),
            "db_cpu_s": None if self.db_cpu_s is None else round(self.db_cpu_s, 3),
            "db_cores": rounded(self.cores(self.db_cpu_s), 3),
            "calls_per_server_cpu_s": rounded(self.calls_per_cpu_s, 1),
            "ratio_to_baseline": rounded(self.ratio_to(baseline), 4),
            "ratio_to_fastmcp": rounded(self.ratio_to(fastmcp), 4),
        }


@dataclass(frozen=True, slots=True)
class LeakFigures:
    """Server RSS (KiB, whole process tree) once ``warm_calls`` calls were sent and again after ``total_calls``."""

    warm_calls: int
    total_calls: int
    rss_warm_kib: int
    rss_end_kib: int

    @property
    def growth_pct(self) -> float:
        """RSS growth from the warm sample to the end, in % of the warm sample (NaN if nothing was read)."""
        if self.rss_warm_kib <= 0:
            return math.nan
        return (self.rss_end_kib - self.rss_warm_kib) / self.rss_warm_kib * 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "warm_calls": self.warm_calls,
            "total_calls": self.total_calls,
            "rss_warm_kib": self.rss_warm_kib,
            "rss_end_kib": self.rss_end_kib,
            "growth_pct": rounded(self.growth_pct, 2),
        }


def rounded(value: float, digits: int) -> float | None:
    """``value`` rounded for JSON; None for NaN (not measured)."""
    return None if math.isnan(value) else round(value, digits)


def find(results: list[Measurement], scenario: str, phase: str = "saturation") -> Measurement | None:
    return next((m for m in results if m.scenario == scenario and m.phase == phase), None)

"""CPU and memory accounting for process trees from ``/proc`` (Linux).

The server under test may fork (workers, helpers), so its CPU is the sum over the whole tree:
``utime + stime`` of every live descendant plus ``cutime + cstime`` (children already reaped).
Postgres backends are not children of the server, so they are counted separately by pid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` this module needs (CPU in clock ticks)."""

    pid: int
    ppid: int
    own_ticks: int
    reaped_children_ticks: int


def read_stat(pid: int) -> ProcStat | None:
    """Parse ``/proc/<pid>/stat``; None if the process is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name may contain spaces and ")"
    # after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return ProcStat(pid, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))


def all_stats() -> dict[int, ProcStat]:
    stats: dict[int, ProcStat] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            stats[stat.pid] = stat
    return stats


def descendants(root: int, stats: dict[int, ProcStat]) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            tree.append(pid)
            frontier.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root`` and its descendants (live and reaped)."""
    stats = all_stats()
    ticks = sum(stats[pid].own_ticks + stats[pid].reaped_children_ticks for pid in descendants(root, stats))
    return ticks / CLOCK_TICKS


def pids_cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """Own CPU seconds of each live pid (for processes outside our tree, e.g. DB backends)."""
    result: dict[int, float] = {}
    for pid in pids:
        if (stat := read_stat(pid)) is not None:
            result[pid] = stat.own_ticks / CLOCK_TICKS
    return result


def parse_vm_rss_kib(status: str) -> int | None:
    """``VmRSS`` in KiB from the text of ``/proc/<pid>/status``; None without that line (kernel threads, zombies)."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            amount, _, unit = value.strip().partition(" ")
            if unit.strip() != "kB":  # the kernel always writes kB; anything else is not this file
                raise ValueError(f"unexpected VmRSS unit in {line!r}")
            return int(amount)
    return None


def tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of ``root`` and its live descendants: the sum of their ``VmRSS``.

    Pages shared between processes of the tree count once per process, so with children this overstates the
    tree's footprint; compared over time in one run it still shows growth.
    """
    total = 0
    for pid in descendants(root, all_stats()):
        try:
            status = (PROC / str(pid) / "status").read_text()
        except OSError:
            continue  # exited between listing and reading
        total += parse_vm_rss_kib(status) or 0
    return total

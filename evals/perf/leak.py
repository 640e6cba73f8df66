"""The opt-in ``leak`` scenario: many cheap calls, and the server's resident memory early and at the end.

It sends ``--leak-calls`` calls of ``crm_get_lead`` closed-loop, in two stretches on the same connections: the
first ``LEAK_WARM_CALLS`` (start-up allocations, caches and pools fill up), then the rest. Between and after
them the load stops and the server tree's ``VmRSS`` is read, so both samples are taken at rest. Growth beyond
a few per cent between the two samples suggests memory kept per call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from config import LEAK_WARM_CALLS, BenchConfig
from loadgen import Endpoint, SessionPool
from measurement import LeakFigures, Measurement
from phases import CpuProbe, measure
from proctree import tree_rss_kib
from rich.console import Console
from scenarios import READ_TOOL, read_factory


async def run_leak(
    endpoint: Endpoint,
    probe: CpuProbe,
    server_pid: int,
    lead_ids: Sequence[str],
    cfg: BenchConfig,
    console: Console,
) -> tuple[Measurement, LeakFigures]:
    """The measured stretch after the warm calls (its figures as the ``leak`` row) and the two RSS samples."""
    factory = read_factory(lead_ids)
    console.print(
        f"[dim]leak: {cfg.leak_calls:,} calls of {READ_TOOL}, server RSS after {LEAK_WARM_CALLS:,} and at the end[/dim]"
    )
    async with SessionPool(endpoint, cfg.protocol, cfg.connections) as pool:
        await pool.run(factory, math.inf, max_calls=LEAK_WARM_CALLS)
        rss_warm = tree_rss_kib(server_pid)
        rest = cfg.leak_calls - LEAK_WARM_CALLS
        measured = await measure(pool, factory, probe, ("leak", "saturation"), math.inf, None, max_calls=rest)
        rss_end = tree_rss_kib(server_pid)
    return measured, LeakFigures(LEAK_WARM_CALLS, cfg.leak_calls, rss_warm, rss_end)

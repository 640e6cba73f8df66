"""The CRM benchmark's pure logic: /proc VmRSS parsing, the targets judged from a run's rows (relative to the bare
FastMCP row, paced p99, tenants against one tenant, RSS growth), and which scenarios run by default."""

import math
import sys
from pathlib import Path

import pytest

# evals/perf is a folder of scripts importing each other by bare name (not a package): put it on the path last,
# so its module names cannot shadow anything installed.
PERF = str(Path(__file__).resolve().parents[2] / "evals" / "perf")
if PERF not in sys.path:
    sys.path.append(PERF)

from config import DEFAULT_SCENARIOS, LEAK_WARM_CALLS, parse_args  # noqa: E402
from loadgen import PhaseStats  # noqa: E402
from measurement import LeakFigures, Measurement  # noqa: E402
from proctree import parse_vm_rss_kib  # noqa: E402
from targets import TargetCheck, target_checks  # noqa: E402

STATUS = """Name:\tpython
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t  412000 kB
VmRSS:\t  287104 kB
RssAnon:\t  250000 kB
Threads:\t4
"""


def row(scenario: str, calls: int, cpu_s: float, *, phase: str = "saturation", p99_ms: float = 10.0) -> Measurement:
    """A phase of ``calls`` OK calls in 10 s using ``cpu_s`` of server CPU; every latency is ``p99_ms``."""
    stats = PhaseStats(wall_s=10.0, latencies_s=[p99_ms / 1000.0] * calls)
    return Measurement(scenario, phase, stats, cpu_s)


def named(checks: list[TargetCheck], prefix: str) -> TargetCheck:
    (check,) = [c for c in checks if c.name.startswith(prefix)]
    return check


def test_vm_rss_is_read_in_kib() -> None:
    assert parse_vm_rss_kib(STATUS) == 287_104


def test_a_status_without_vm_rss_gives_none() -> None:
    assert parse_vm_rss_kib("Name:\tkthreadd\nState:\tS (sleeping)\n") is None


def test_a_vm_rss_in_another_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unit"):
        parse_vm_rss_kib("VmRSS:\t 12 MB\n")


def test_relative_targets_are_shares_of_the_fastmcp_row() -> None:
    fastmcp = row("fastmcp", 5000, 10.0)  # 500 calls per server-CPU-second
    met = target_checks([fastmcp, row("read", 3000, 10.0), row("write", 1500, 10.0)])
    assert named(met, "read (").status == "met"  # 300 = 0.6 x 500
    assert named(met, "read (").measured == pytest.approx(0.6)
    assert named(met, "write (").status == "met"  # 150 = 0.3 x 500
    missed = target_checks([fastmcp, row("read", 2990, 10.0), row("write", 1490, 10.0)])
    assert named(missed, "read (").status == "missed"
    assert named(missed, "write (").status == "missed"
    assert "(300)" in named(missed, "read (").wanted


def test_without_the_fastmcp_row_relative_targets_are_not_measured() -> None:
    checks = target_checks([row("read", 3000, 1.0), row("read", 2000, 1.0, phase="paced", p99_ms=20.0)])
    relative = named(checks, "read (")
    assert relative.status == "not measured"
    assert math.isnan(relative.measured)
    assert relative.to_json()["met"] is None
    assert named(checks, "read: p99").status == "met"  # the latency target does not need the reference


def test_paced_p99_is_judged_against_50_ms() -> None:
    fast = target_checks([row("write", 10, 1.0, phase="paced", p99_ms=50.0)])
    slow = target_checks([row("write", 10, 1.0, phase="paced", p99_ms=50.5)])
    assert named(fast, "write: p99").status == "met"
    assert named(slow, "write: p99").status == "missed"


def test_many_tenants_must_write_at_least_as_fast_as_one() -> None:
    write = row("write", 300, 10.0)  # 30 calls/s
    assert named(target_checks([write, row("tenants", 300, 10.0)]), "tenants").status == "met"
    assert named(target_checks([write, row("tenants", 290, 10.0)]), "tenants").status == "missed"
    alone = named(target_checks([row("tenants", 290, 10.0)]), "tenants")
    assert alone.status == "not measured"


def test_the_hot_tenant_rate_is_shown_for_comparison_not_judged() -> None:
    hot = named(target_checks([row("write", 300, 10.0)]), "write: hot")
    assert hot.status == "shown"
    assert hot.measured == pytest.approx(30.0)
    assert hot.to_json()["met"] is None


def test_rss_growth_up_to_5_percent_is_within_the_target() -> None:
    def leak_status(warm: int, end: int) -> str:
        return named(target_checks([], LeakFigures(10_000, 100_000, warm, end)), "leak").status

    assert LeakFigures(10_000, 100_000, 200_000, 210_000).growth_pct == pytest.approx(5.0)
    assert leak_status(200_000, 210_000) == "met"
    assert leak_status(200_000, 210_100) == "missed"
    assert leak_status(200_000, 150_000) == "met"  # memory handed back is no leak
    assert leak_status(0, 150_000) == "not measured"


def test_scenarios_not_run_have_no_target_lines() -> None:
    assert target_checks([row("fastmcp", 5000, 10.0), row("campaigns", 100, 1.0)]) == []


def test_leak_is_opt_in_and_needs_more_calls_than_the_first_sample() -> None:
    assert "leak" not in parse_args([]).only
    assert parse_args([]).only == DEFAULT_SCENARIOS
    assert parse_args(["--only", "leak"]).only == ("leak",)
    with pytest.raises(SystemExit):
        parse_args(["--only", "leak", "--leak-calls", str(LEAK_WARM_CALLS)])

"""Command-line settings of the CRM benchmark: which scenarios run, for how long, and against what."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadgen import Protocol
from services import Postgres

SCENARIOS = ("baseline", "fastmcp", "read", "write", "tenants", "campaigns", "copy", "leak")
# `leak` sends --leak-calls calls (100,000 take ~10 minutes on a 2-vCPU VM): only when asked for with --only.
DEFAULT_SCENARIOS = tuple(s for s in SCENARIOS if s != "leak")
LEAK_WARM_CALLS = 10_000

EPILOG = f"""scenarios (--only, repeatable; default: all but leak):
  baseline   POST /rpc on a plain Starlette app (no MCP)
  fastmcp    a no-I/O tool on a bare FastMCP server configured like the suite (the framework's ceiling)
  read       crm_get_lead on seeded leads; saturation, then paced
  write      crm_capture_lead, a new contact per call, one tenant; saturation, then paced
  tenants    crm_capture_lead spread over --tenants tenants (dev-mode bearer tokens, one tenant per connection);
             saturation, compared with the write row
  campaigns  campaigns_get_campaign on --campaigns campaigns planned at start-up; saturation, then paced
  copy       content_generate_copy on the default local (offline) writer; saturation, then paced
  leak       opt-in (not in the default set: 100,000 calls take minutes): --leak-calls calls of crm_get_lead,
             server RSS after the first {LEAK_WARM_CALLS:,} calls and at the end
"""


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
    tenants: int = 50
    campaigns: int = 5
    leak_calls: int = 100_000

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"protocol": self.protocol.value, "json_out": self.json_out and str(self.json_out)}
        return data


def parse_args(argv: Sequence[str] | None, description: str | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(
        description=description, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each scenario")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections, 1 call in flight each")
    parser.add_argument("--protocol", choices=["modern", "legacy"], default="modern", help="MCP protocol era")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json-response", dest="json_response", action="store_true", help="serve JSON responses")
    mode.add_argument("--sse", dest="json_response", action="store_false", help="serve SSE responses (default)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only these scenarios (repeatable; default: all but leak, which runs only when named)",
    )
    parser.add_argument("--leads", type=int, default=50, help="leads captured before the read and leak scenarios")
    parser.add_argument(
        "--tenants", type=int, default=50, help="tenants of the tenants scenario (at least that many connections)"
    )
    parser.add_argument("--campaigns", type=int, default=5, help="campaigns planned before the campaigns scenario")
    parser.add_argument(
        "--leak-calls",
        type=int,
        default=100_000,
        help=f"calls of the opt-in leak scenario (more than {LEAK_WARM_CALLS:,}; 100,000 take minutes)",
    )
    parser.add_argument("--paced-fraction", type=float, default=0.7, help="paced load as a fraction of saturation")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /readyz")
    parser.add_argument("--mcp-path", default="/mcp", help="MCP endpoint path of the suite")
    parser.add_argument("--json-out", type=Path, default=None, help="also write all figures to this JSON file")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    ns = parser.parse_args(argv)
    if ns.leak_calls <= LEAK_WARM_CALLS:
        parser.error(f"--leak-calls must be more than {LEAK_WARM_CALLS:,} (the first RSS sample is taken there)")
    if ns.tenants < 1 or ns.campaigns < 1 or ns.connections < 1:
        parser.error("--tenants, --campaigns and --connections must be at least 1")
    return BenchConfig(
        duration=ns.duration,
        warmup=ns.warmup,
        connections=ns.connections,
        protocol=Protocol(ns.protocol),
        json_response=ns.json_response,
        only=tuple(s for s in SCENARIOS if s in (ns.only or DEFAULT_SCENARIOS)),
        leads=ns.leads,
        paced_fraction=ns.paced_fraction,
        startup_timeout=ns.startup_timeout,
        mcp_path=ns.mcp_path,
        json_out=ns.json_out,
        pg=Postgres(ns.pg_host, ns.pg_port, ns.pg_user),
        tenants=ns.tenants,
        campaigns=ns.campaigns,
        leak_calls=ns.leak_calls,
    )

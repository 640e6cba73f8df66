"""Prints how big the tool list is that a client (and its model) is shown, against the issue-12 budgets.

Builds the gateway with every context on a throwaway SQLite data folder, lists the tools through an in-memory
MCP client exactly as a client receives them (tools/list wire JSON) and prints per-tool and per-context sizes,
the totals against the budgets and the largest input schemas. Prints figures; asserts nothing.

    .venv/bin/python evals/tool_budget.py
    .venv/bin/python evals/tool_budget.py --json-out /tmp/budget.json --top 20
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")
os.environ.setdefault("FASTMCP_MCP_CAMELCASE_COMPAT", "false")

from fastmcp import Client

from promptsales.domain_core.infrastructure.settings import CONTEXTS, Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from promptsales.servers.tool_budget import Budget, measure, tokens, wire


async def list_wire_tools(data_dir: Path) -> list[dict[str, Any]]:
    """tools/list of the full gateway as an Enterprise tenant gets it (wire JSON), on a new SQLite database."""
    settings = Settings(
        data_dir=data_dir,
        database_url=None,
        migration_database_url=None,
        redis_url=None,
        tenant="budget",
        toolsets=CONTEXTS,
        auto_migrate=True,
        default_plan="enterprise",  # the plan that sees every tool (lower plans hide some, e.g. campaigns)
        log_level="warning",
    )
    gateway = build_gateway(Runtime(settings))
    async with Client(gateway) as client:
        listed = await client.list_tools_mcp()
    return [wire(tool) for tool in listed.tools]


def report(budget: Budget, top: int) -> None:
    """Print the per-tool table, the per-context totals, the grand totals and the largest input schemas."""
    summary = budget.summary()
    print(f"Method: {summary['method']}\n")
    print(f"{'tool':44} {'model chars':>11} {'tokens':>7} {'input':>7} {'output':>7} {'out tok':>7}")
    for tool in budget.tools:
        print(
            f"{tool.name:44} {tool.model_facing:>11} {tokens(tool.model_facing):>7} {tool.input_schema:>7} "
            f"{tool.output_schema:>7} {tokens(tool.output_schema):>7}"
        )
    print(f"\n{'context':14} {'tools':>5} {'model chars':>11} {'tokens':>7} {'output chars':>12} {'full tokens':>11}")
    for context, row in sorted(budget.by_context().items()):
        print(
            f"{context:14} {row['tools']:>5} {row['model_facing']:>11} {tokens(row['model_facing']):>7} "
            f"{row['output_schema']:>12} {tokens(row['full']):>11}"
        )
    print(f"\nTools: {summary['tools']}")
    print(
        f"Model-facing (name, title, description, inputSchema, annotations): {summary['model_facing_chars']} chars"
        f" = ~{summary['model_facing_tokens']} tokens (budget {summary['model_facing_budget_tokens']})"
    )
    print(
        f"Full tools/list (with output schemas): {summary['full_chars']} chars = ~{summary['full_tokens']} tokens"
        f" (budget {summary['full_budget_tokens']})"
    )
    print(
        f"Largest input schema: {summary['largest_input_schema_chars']} chars"
        f" (limit {summary['input_schema_limit_chars']})"
    )
    print(f"Within every budget: {summary['within_budget']}")
    print(f"\nLargest input schemas (top {top}):")
    for tool in budget.largest_input_schemas(top):
        print(f"  {tool.name:44} {tool.input_schema:>7} chars")


def main() -> int:
    """Measure the tool list and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--top", type=int, default=10, help="how many of the largest input schemas to list")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # start-up logs would interleave with the table
    with tempfile.TemporaryDirectory(prefix="promptsales-budget-") as folder:
        entries = asyncio.run(list_wire_tools(Path(folder)))
    budget = measure(entries)
    report(budget, args.top)
    if args.json_out:
        figures = {
            "summary": budget.summary(),
            "contexts": budget.by_context(),
            "tools": [tool.__dict__ for tool in budget.tools],
        }
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nWrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

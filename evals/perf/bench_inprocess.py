"""CPU per tool call measured in one process: the least noisy way to compare two versions of the suite's own code.

The HTTP benchmark (bench_crm.py) splits the work over a server, Postgres and a load generator on a shared VM,
where one run can differ from the next by 25 %. This one calls the gateway through fastmcp's in-memory client
(middleware, tools, domain, SQL through psycopg to a scratch Postgres database, the outbox relay and its
consumers, all in this process) and charges ``time.process_time()`` per call, best of ``--repeat`` rounds. The
client's own cost is included and the same for every version, so compare versions, not absolute figures with
bench_crm.py. Run it with another checkout's interpreter to measure that checkout (the database and figures
are its own; this file is only the driver):

    .venv/bin/python evals/perf/bench_inprocess.py [--calls 200] [--repeat 3]
    /path/to/other/checkout/.venv/bin/python evals/perf/bench_inprocess.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from scenarios import write_arguments
from services import Postgres, run_command, scratch_database

SEED_LEADS = 50


async def measure(calls: int, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` CPU milliseconds per call of a capture (write) and a lead read."""
    from fastmcp import Client

    from promptsales.domain_core.infrastructure.settings import Settings
    from promptsales.servers.gateway import build_gateway
    from promptsales.servers.runtime import Runtime

    runtime = Runtime(Settings())
    figures: dict[str, float] = {}
    async with Client(build_gateway(runtime)) as client:
        lead_ids = []
        for index in range(SEED_LEADS):
            seeded = await client.call_tool("crm_capture_lead", write_arguments(f"seed-{index}@example.com", "Seed"))
            lead_ids.append(seeded.structured_content["lead"]["id"])  # type: ignore[index]
        await runtime.drain_events()

        def write(n: int) -> Awaitable[Any]:
            return client.call_tool("crm_capture_lead", write_arguments(f"inproc-{n}@example.com", "Bench"))

        def read(n: int) -> Awaitable[Any]:
            return client.call_tool("crm_get_lead", {"lead_id": lead_ids[n % SEED_LEADS]})

        scenarios: dict[str, Callable[[int], Awaitable[Any]]] = {"write": write, "read": read}
        for name, call in scenarios.items():
            rounds = []
            for round_number in range(repeat):
                started = time.process_time()
                for n in range(calls):
                    await call(round_number * calls + n)
                await runtime.drain_events()  # the consumers' work belongs to the writes
                rounds.append((time.process_time() - started) / calls * 1000)
            figures[name] = min(rounds)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls per round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is reported")
    options = parser.parse_args(argv)
    pg = Postgres()
    with scratch_database(pg) as database, tempfile.TemporaryDirectory(prefix="promptsales-inproc-") as tmp:
        os.environ.update(
            PROMPTSALES_DATABASE_URL=pg.sqlalchemy_url(database),
            PROMPTSALES_DATA_DIR=tmp,
            PROMPTSALES_TENANT="bench",
            PROMPTSALES_RATE_LIMITS_ENABLED="false",
            PROMPTSALES_DEFAULT_PLAN="enterprise",
            PROMPTSALES_LOG_LEVEL="warning",
            FASTMCP_CHECK_FOR_UPDATES="off",
        )
        cli = str(Path(sys.executable).parent / "promptsales")
        run_command([cli, "db", "upgrade"], os.environ, 120.0, Path(tmp) / "migrate.log")
        figures = asyncio.run(measure(options.calls, options.repeat))
    for name, ms in figures.items():
        print(f"{name}: {ms:.2f} ms of CPU per call (best of {options.repeat} x {options.calls})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

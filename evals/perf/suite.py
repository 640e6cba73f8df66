"""The suite under test: its environment, migrations and a running ``promptsales serve --transport http``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from config import BenchConfig
from loadgen import Endpoint
from phases import CpuProbe
from rich.console import Console
from services import BackendPids, free_port, run_command, running_server

MIGRATE_TIMEOUT_S = 120.0


def cli() -> str:
    """The ``promptsales`` script of the venv running the benchmark."""
    return str(Path(sys.executable).parent / "promptsales")


def suite_env(cfg: BenchConfig, database: str, data_dir: Path | None = None) -> dict[str, str]:
    env = os.environ | {
        "PROMPTSALES_DATABASE_URL": cfg.pg.sqlalchemy_url(database),
        "PROMPTSALES_TENANT": "bench",
        "PROMPTSALES_LOG_LEVEL": "warning",
        # One tenant at full speed would exceed the default per-tenant limits; this measures raw capacity.
        "PROMPTSALES_RATE_LIMITS_ENABLED": "false",
        # The write scenario creates thousands of contacts: no plan quota should stop it (entitlement checks
        # and metering still run on every call). It is the plan of every tenant without a subscription
        # (business/model/entitlements.py `standing`), so the tenants scenario's tenants get it too.
        "PROMPTSALES_DEFAULT_PLAN": "enterprise",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
    }
    if data_dir is not None:
        env["PROMPTSALES_DATA_DIR"] = str(data_dir)
    return env


def migrate(env: Mapping[str, str], logs: Path) -> None:
    run_command([cli(), "db", "upgrade"], env, MIGRATE_TIMEOUT_S, logs / "migrate.log")


@dataclass(frozen=True, slots=True)
class RunningSuite:
    """Where the suite answers and how its CPU (and its database backends') is read."""

    endpoint: Endpoint
    probe: CpuProbe
    pid: int


@contextmanager
def running_suite(
    cfg: BenchConfig,
    database: str,
    env: Mapping[str, str],
    log: Path,
    console: Console,
    port: int | None = None,
) -> Iterator[RunningSuite]:
    """Serve the suite over HTTP on 127.0.0.1 until the block ends (stopped also on errors)."""
    port = port or free_port()
    argv = [cli(), "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--json-response"] if cfg.json_response else []
    console.print(f"[dim]starting suite: {' '.join(argv[1:])}[/dim]")
    with running_server("promptsales", argv, env, log, (port, "/readyz"), cfg.startup_timeout) as server:
        backends = BackendPids(cfg.pg, database)
        try:
            endpoint = Endpoint("127.0.0.1", port, cfg.mcp_path)
            yield RunningSuite(endpoint, CpuProbe(server.pid, backends), server.pid)
        finally:
            backends.close()

"""The ``tenants`` scenario: new-contact writes spread over many tenants, each connection sending as one tenant.

How a caller picks its tenant over HTTP in this suite: without a token (``PROMPTSALES_AUTH_MODE=none``, what the
other scenarios use) every call belongs to ``PROMPTSALES_TENANT``. With ``PROMPTSALES_AUTH_MODE=dev`` the server
verifies RS256 bearer tokens of its local development issuer (servers/auth.py, servers/dev_issuer.py) and
``Runtime.caller`` (servers/runtime.py) takes the tenant from the token's tenant claim and the actor from ``sub``.
So this scenario serves the suite a second time, in dev auth mode on the same database, creates the issuer's keys
with ``promptsales auth dev-keys`` and mints one token per tenant with ``mint_dev_token``, the function
``promptsales auth dev-token`` calls (one process per token would take a minute). Connection i sends tenant
i % N's token. Tenants need no provisioning: one without a subscription gets ``PROMPTSALES_DEFAULT_PLAN``
(enterprise in the benchmark; business/model/entitlements.py ``standing``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import psycopg
from config import BenchConfig
from loadgen import Endpoint, HeadersFor, SessionPool
from measurement import Measurement
from phases import CpuProbe, saturate
from rich.console import Console
from scenarios import tenant_write_factory
from services import free_port, run_command
from suite import cli, running_suite, suite_env

from promptsales.servers.dev_issuer import DEV_ISSUER, mint_dev_token

KEYS_TIMEOUT_S = 60.0
TENANT_CLAIM = "tenant"
ACTOR = "bench-agent"
SCOPES = "crm:read crm:write"
TOKEN_LIFETIME_S = 3600


def tenant_ids(count: int) -> list[str]:
    return [f"bench-tenant-{index:02d}" for index in range(count)]


def bearer_headers(tokens: Sequence[str]) -> HeadersFor:
    """Connection ``index`` sends as tenant ``index % len(tokens)``."""

    def headers_for(index: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[index % len(tokens)]}"}

    return headers_for


def dev_auth_env(env: dict[str, str], audience: str) -> dict[str, str]:
    """``env`` serving dev-mode auth, with every claim name pinned to what the tokens carry."""
    return env | {
        "PROMPTSALES_AUTH_MODE": "dev",
        "PROMPTSALES_AUTH_AUDIENCE": audience,  # the canonical URL that `aud` must equal
        "PROMPTSALES_AUTH_ISSUER": DEV_ISSUER,
        "PROMPTSALES_AUTH_TENANT_CLAIM": TENANT_CLAIM,
        "PROMPTSALES_AUTH_ACTOR_CLAIM": "sub",
    }


def tenants_written(cfg: BenchConfig, database: str) -> int:
    """How many tenants own the scenario's contacts (read as the superuser, which row-level security lets by)."""
    query = "SELECT count(DISTINCT tenant_id) FROM crm_contacts WHERE email LIKE 'tenants-%'"
    with psycopg.connect(cfg.pg.conninfo(database)) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def tenants_section(
    cfg: BenchConfig,
    database: str,
    logs: Path,
    data_dir: Path,
    results: list[Measurement],
    notes: list[str],
    console: Console,
) -> None:
    """Serve the suite with dev-mode auth and write as ``cfg.tenants`` tenants at saturation."""
    env = suite_env(cfg, database, data_dir)
    run_command([cli(), "auth", "dev-keys"], env, KEYS_TIMEOUT_S, logs / "dev-keys.log")
    port = free_port()
    audience = f"http://127.0.0.1:{port}{cfg.mcp_path}"
    tokens = [
        mint_dev_token(
            data_dir,
            tenant=tenant,
            subject=ACTOR,
            scopes=SCOPES,
            expires_in=TOKEN_LIFETIME_S,
            audience=audience,
            issuer=DEV_ISSUER,
            tenant_claim=TENANT_CLAIM,
        )
        for tenant in tenant_ids(cfg.tenants)
    ]
    connections = max(cfg.connections, cfg.tenants)  # every tenant gets a connection of its own
    console.print(
        f"[dim]tenants: {cfg.tenants} tenants on {connections} connections (dev-mode bearer tokens); "
        f"warm-up {cfg.warmup:g} s, saturation {cfg.duration:g} s[/dim]"
    )
    log = logs / "suite-tenants.log"
    with running_suite(cfg, database, dev_auth_env(env, audience), log, console, port) as suite:
        asyncio.run(_load(suite.endpoint, suite.probe, cfg, connections, bearer_headers(tokens), results))
    notes.append(
        f"tenants: {connections} connections (the other scenarios: {cfg.connections}), connection i sending as "
        f"tenant i % {cfg.tenants} with a dev-issuer token (the server in PROMPTSALES_AUTH_MODE=dev, so each call "
        f"also verifies an RS256 JWT); contacts landed in {tenants_written(cfg, database)} distinct tenants"
    )


async def _load(
    endpoint: Endpoint,
    probe: CpuProbe,
    cfg: BenchConfig,
    connections: int,
    headers_for: HeadersFor,
    results: list[Measurement],
) -> None:
    async with SessionPool(endpoint, cfg.protocol, connections, headers_for) as pool:
        results.append(await saturate(pool, tenant_write_factory, probe, "tenants", cfg))

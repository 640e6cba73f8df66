"""Server-level fixtures: each test gets its own SQLite database and an in-memory MCP client on the gateway.

The schema is migrated once per session into a template file; every test copies it into its own folder,
so tests never share data but do not each pay for running the migrations.
"""

import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastmcp import Client, FastMCP
from mcp.types import CallToolResult

from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime

DB_FILE = "promptsales.db"
# Text that must never reach a client: internals, stack traces, SQL, driver names, fastmcp's unmasked wrapper.
LEAK_MARKERS = ("Internal error", "Traceback", "sqlalchemy", "SELECT", "psycopg", "Error calling tool")


class Crm:
    """Calls the CRM tools through an MCP client and checks the result kind (test modules get it as a fixture)."""

    @staticmethod
    def assert_clean(text: str) -> None:
        """Fail when an error text shows internals instead of an actionable message."""
        leaked = [marker for marker in LEAK_MARKERS if marker.lower() in text.lower()]
        assert not leaked, f"error text leaks {leaked}: {text}"

    @staticmethod
    def iso(moment: datetime) -> str:
        """ISO-8601 with a Z, as a client would send it."""
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @classmethod
    def ago(cls, **delta: float) -> str:
        """An ISO timestamp ``delta`` before now (``delta`` as for timedelta)."""
        return cls.iso(datetime.now(UTC) - timedelta(**delta))

    def __init__(self, client: Client, prefix: str = "crm_") -> None:
        self.client = client
        self.prefix = prefix

    async def raw(self, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        """The tools/call result exactly as the protocol delivers it (isError, structuredContent, content)."""
        return await self.client.call_tool_mcp(self.prefix + tool, arguments or {})

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured content."""
        result = await self.raw(tool, arguments)
        text = result.content[0].text if result.content else ""
        assert not result.is_error, f"{tool} failed: {text}"
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call a tool that must fail cleanly; return the error text."""
        result = await self.raw(tool, arguments)
        assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
        text = result.content[0].text
        self.assert_clean(text)
        return text

    async def rejects(self, tool: str, cases: list[tuple[dict[str, Any], str]]) -> None:
        """Every case fails cleanly and its error text names the expected field (or id); all are checked."""
        wrong = []
        for arguments, expected in cases:
            text = await self.error(tool, **arguments)
            if expected not in text:
                wrong.append(f"{arguments!r:.200} -> expected {expected!r} in: {text}")
        assert not wrong, "\n".join(wrong)

    async def lead(self, email: str | None = None, **fields: Any) -> dict[str, Any]:
        """capture_lead with a default channel; returns the CaptureResult."""
        fields.setdefault("source_channel", "web_form")
        if email is not None:
            fields["email"] = email
        return await self.ok("capture_lead", **fields)

    async def strong_lead(self, email: str = "ceo@acme.com", **fields: Any) -> dict[str, Any]:
        """A lead with a high fit score: a CEO of a 500-person US software company."""
        profile = {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "title": "CEO",
            "company": "Acme",
            "company_domain": "acme.com",
            "industry": "Software",
            "employee_count": 500,
            "country": "US",
        }
        return await self.lead(email, **{**profile, **fields})


@asynccontextmanager
async def served_over_http(runtime: Runtime) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """The whole HTTP app of ``runtime`` (MCP, webhooks, billing, metrics) started and reached in process."""
    app = http_app(build_gateway(runtime), runtime)
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
            yield runtime, http
    finally:
        await runtime.stop()


def database_settings(data_dir: Path, template: Path, **overrides: Any) -> Settings:
    """Settings for a private copy of the migrated template database in ``data_dir``.

    Tenants default to the Enterprise plan here so CRM tests meet no plan limit; the business tests pick
    their plans (``default_plan=...``, a plans file) through ``overrides``.
    """
    shutil.copyfile(template, data_dir / DB_FILE)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "migration_database_url": None,
        "redis_url": None,
        "tenant": "acme",
        "toolsets": ("crm", "campaigns", "content", "business", "integrations"),
        "auto_migrate": False,
        "default_plan": "enterprise",
        "entitlement_cache_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session", autouse=True)
def quiet_fastmcp_tracebacks() -> Iterator[None]:
    """As the CLI's logging setup does: fastmcp would render every rejected call as a (slow) rich traceback."""
    logger = logging.getLogger("fastmcp.server.server")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(previous)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the schema head, copied by every test."""
    folder = tmp_path_factory.mktemp("template-db")
    upgrade_to_head(Settings(data_dir=folder, database_url=None, migration_database_url=None).resolved_migration_url)
    return folder / DB_FILE


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """This test's data folder; in memory (/dev/shm) where available, since SQLite syncs every commit."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="promptsales-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def make_runtime(data_dir: Path, migrated_template: Path) -> Callable[..., Runtime]:
    """A factory of runtimes on their own database (settings overrides as keywords)."""
    counter = iter(range(1_000))

    def make(**overrides: Any) -> Runtime:
        folder = data_dir / f"runtime-{next(counter)}"
        folder.mkdir()
        return Runtime(database_settings(folder, migrated_template, **overrides))

    return make


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> tuple[Runtime, FastMCP]:
    """One runtime and gateway for the session; each test points the runtime at its own database.

    Building the gateway (tool schemas for every tool) is the costliest part of a test's setup, and a real
    gateway serves many clients anyway. The runtime is stopped between tests (the lifespan ends with the
    client), so swapping its settings before the next client connects gives each test a fresh database.
    """
    folder = tmp_path_factory.mktemp("unused-db")
    runtime = Runtime(database_settings(folder, migrated_template))
    return runtime, build_gateway(runtime)


@pytest.fixture
def runtime(shared_server: tuple[Runtime, FastMCP], data_dir: Path, migrated_template: Path) -> Runtime:
    """The shared runtime, pointed at this test's own database (metrics accumulate across tests)."""
    shared, _ = shared_server
    assert shared._users == 0, "a previous test left the runtime running"
    shared.settings = database_settings(data_dir, migrated_template)
    return shared


@pytest.fixture
def gateway(runtime: Runtime, shared_server: tuple[Runtime, FastMCP]) -> FastMCP:
    """The gateway with the CRM mounted under ``crm`` (on this test's database)."""
    return shared_server[1]


@pytest_asyncio.fixture
async def client(gateway: FastMCP) -> AsyncIterator[Client]:
    """An in-memory client on the 2026-07-28 (sessionless) protocol."""
    async with Client(gateway, mode="auto") as connected:
        yield connected


@pytest_asyncio.fixture(params=["auto", "legacy"])
async def era_client(gateway: FastMCP, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """An in-memory client on each protocol era (modern sessionless and the legacy handshake)."""
    async with Client(gateway, mode=request.param) as connected:
        yield connected


@pytest.fixture
def crm(client: Client) -> Crm:
    """CRM tool caller on the modern-era client."""
    return Crm(client)


@pytest.fixture
def era_crm(era_client: Client) -> Crm:
    """CRM tool caller on each protocol era."""
    return Crm(era_client)

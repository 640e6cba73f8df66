"""End-to-end fixtures: the installed ``promptsales`` console script, run in real subprocesses.

Every test here drives the product the way a user or an agent does: through the command line, over HTTP
on a real port, or over stdio with the official ``mcp`` client. When a test fails, the log of every
server process it used is attached to the report (section ``promptsales log ...``).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio
import httpx
import psycopg
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from psycopg import sql

PROMPTSALES = Path(sys.executable).parent / "promptsales"
READY_TIMEOUT_S = 60.0  # a loaded 2-core CI machine can take 30 s or more to start and migrate
POLL_INTERVAL_S = 0.1
CLI_TIMEOUT_S = 90.0
CALL_TIMEOUT_S = 30.0
MODERN = "2026-07-28"
HANDSHAKE = "handshake"
ERAS = (MODERN, HANDSHAKE)
TENANT = "e2e"


@runtime_checkable
class HasFailureLog(Protocol):
    """A fixture value whose log is worth reading when a test fails."""

    def failure_log(self) -> tuple[str, str]: ...


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the logs of the processes a failed test used (server stderr, stdio server stderr)."""
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, HasFailureLog):
                title, text = value.failure_log()
                report.sections.append((title, text or "(empty)"))
    return report


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any PROMPTSALES_* setting, plus an isolated data dir and tenant."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMPTSALES_")}
    env.update(
        PROMPTSALES_DATA_DIR=str(data_dir),
        PROMPTSALES_TENANT=TENANT,
        # These tests exercise transports and auth; plan limits have tests of their own.
        PROMPTSALES_DEFAULT_PLAN="enterprise",
        COLUMNS="240",  # rich wraps at 80 columns when not on a terminal
        FASTMCP_CHECK_FOR_UPDATES="off",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``promptsales ARGS`` to completion (bounded) and return what it printed."""
    return subprocess.run(
        [str(PROMPTSALES), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def unique_email(label: str = "lead") -> str:
    """An address no other test uses (servers are shared within a module)."""
    return f"{label}.{uuid.uuid4().hex[:10]}@e2e.example.com"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``promptsales serve --transport http`` on a free loopback port, started and stopped by a fixture."""

    def __init__(self, data_dir: Path, *extra_args: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.env = env
        self.log_path = data_dir.parent / f"{data_dir.name}-server-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def failure_log(self) -> tuple[str, str]:
        return f"promptsales log (serve {' '.join(self.extra_args) or 'http'} on {self.base_url})", self.log_text()

    def launch(self) -> None:
        """Start the process on a free port (returns at once; see ``wait_ready``)."""
        self.port = _free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(PROMPTSALES),
                    "serve",
                    "--transport",
                    "http",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *self.extra_args,
                ],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, *, retries: int = 2) -> None:
        """Poll /readyz (bounded) until it answers 200; relaunch on a port taken in the meantime."""
        while not self._poll_ready():
            if retries == 0 or "address already in use" not in self.log_text().lower():
                self.stop()
                pytest.fail(f"promptsales serve did not become ready:\n{self.log_text()[-6000:]}", pytrace=False)
            retries -= 1
            self.launch()

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def _poll_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    if client.get(f"{self.base_url}/readyz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(POLL_INTERVAL_S)
        return False

    def stop(self) -> str | None:
        """SIGTERM, then SIGKILL after 10 s; returns a complaint when the server did not stop cleanly."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.terminate()
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return "did not stop within 10 s of SIGTERM (killed)"
        # uvicorn re-raises the captured SIGTERM after its graceful shutdown, so -SIGTERM is a clean exit too.
        return None if code in (0, -signal.SIGTERM) else f"exited with {code} on SIGTERM"


def stop_all(*servers: ServerProcess) -> None:
    """Stop every server; a server that hangs or fails on SIGTERM is an error of the test that used it."""
    problems = [
        f"{server.failure_log()[0]}: {p}\n{server.log_text()[-3000:]}" for server in servers if (p := server.stop())
    ]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def _http_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Both HTTP servers of a module, started side by side (each takes seconds to import and migrate)."""
    sse_dir = tmp_path_factory.mktemp("http-sse")
    json_dir = tmp_path_factory.mktemp("http-json")
    servers = (
        ServerProcess(sse_dir, env=base_env(sse_dir)),
        ServerProcess(json_dir, "--json-response", env=base_env(json_dir)),
    )
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        stop_all(*servers)


@pytest.fixture(scope="module")
def http_server(_http_servers: tuple[ServerProcess, ServerProcess]) -> ServerProcess:
    """The HTTP server with its defaults (SSE responses), on embedded SQLite."""
    return _http_servers[0]


@pytest.fixture(scope="module")
def json_http_server(_http_servers: tuple[ServerProcess, ServerProcess]) -> ServerProcess:
    """The HTTP server started with ``--json-response`` (plain JSON bodies, no streamed notifications)."""
    return _http_servers[1]


@asynccontextmanager
async def mcp_http_session(url: str, era: str, **session_kwargs: Any) -> AsyncIterator[ClientSession]:
    """An official ``mcp`` client session over streamable HTTP, on the chosen protocol era.

    ``2026-07-28``: no handshake, ``server/discover`` then sessionless requests. ``handshake``: the classic
    ``initialize`` + ``notifications/initialized`` exchange (negotiates the newest handshake version).
    """
    session_kwargs.setdefault("read_timeout_seconds", CALL_TIMEOUT_S)
    async with streamable_http_client(url) as (read, write), ClientSession(read, write, **session_kwargs) as session:
        with anyio.fail_after(CALL_TIMEOUT_S):
            if era == MODERN:
                await session.discover()
            else:
                await session.initialize()
        yield session


def capture_arguments(email: str, **extra: Any) -> dict[str, Any]:
    """Arguments of a web-form lead with provenance, as an agent would send them."""
    return {
        "source_channel": "web_form",
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines Ltd",
        "campaign_ref": "spring-launch",
        "utm": {"source": "newsletter", "medium": "email", "campaign": "spring"},
        **extra,
    }


def result_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC result of a raw call answered as JSON or as an SSE stream."""
    assert response.status_code == 200, (response.status_code, response.text)
    if response.headers["content-type"].startswith("application/json"):
        message: dict[str, Any] = response.json()
    else:
        messages = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
        message = next(m for m in messages if "id" in m)
    assert "result" in message, message
    result: dict[str, Any] = message["result"]
    return result


def text_of(result: dict[str, Any]) -> str:
    """The text blocks of a tool result, joined."""
    return " ".join(block.get("text", "") for block in result.get("content", []))


# --------------------------------------------------------------------------------------------- shared helpers

PG_ADMIN_DSN = os.environ.get("PROMPTSALES_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database named ``<prefix>_<hex>``, dropped afterwards even with connections left open.

    Without PostgreSQL the test is skipped, except under ``CI=true`` where it fails.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(reason)
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def modern_tools_call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A 2026-07-28 tools/call message (its ``_meta`` carries the protocol version; no handshake)."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": tool,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }

"""The suite in-process for evals: the gateway on a throwaway SQLite database per task, sandbox connectors."""

import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastmcp import Client, FastMCP
from mcp.types import CallToolResult, TextContent, Tool

from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime

DB_FILE = "promptsales.db"
CONTEXTS = ("crm", "campaigns", "content", "business", "integrations")
# Evals replay many calls quickly; the rate limiter is tested elsewhere and would only add noise here.
os.environ.setdefault("PROMPTSALES_RATE_LIMITS_ENABLED", "false")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One tools/call as the model would see it: the error flag, the structured result and the text."""

    is_error: bool
    data: dict[str, Any] | None
    text: str


def outcome_of(result: CallToolResult) -> Outcome:
    """Flatten a CallToolResult into what the runner records and shows the model (text blocks only)."""
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    data = result.structured_content if isinstance(result.structured_content, dict) else None
    return Outcome(is_error=bool(result.is_error), data=data, text="\n".join(texts))


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a local, sandboxed tenant on a SQLite file in ``data_dir`` (Enterprise unless overridden)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "migration_database_url": None,
        "redis_url": None,
        "tenant": "eval",
        "toolsets": CONTEXTS,
        "auto_migrate": False,
        "default_plan": "enterprise",
        "entitlement_cache_seconds": 0,
        "integrations_mode": "sandbox",
        "content_text_provider": "local",
        "content_image_provider": "local",
        "paypal_mode": "sandbox",
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def quiet() -> Iterator[None]:
    """fastmcp logs every rejected call with a rich traceback: evals count errors, they need no tracebacks."""
    logger = logging.getLogger("fastmcp.server.server")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


class Suite:
    """One runtime and gateway; each task gets a fresh copy of a migrated database (as the server tests do)."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="promptsales-evals-", dir=_scratch()))
        template_dir = self.root / "template"
        template_dir.mkdir(parents=True, exist_ok=True)
        self.template = template_dir / DB_FILE
        if not self.template.exists():
            upgrade_to_head(settings_for(template_dir).resolved_migration_url)
        self.runtime = Runtime(settings_for(self._fresh_dir()))
        self.gateway: FastMCP = build_gateway(self.runtime)

    def _fresh_dir(self) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="task-", dir=self.root))
        shutil.copyfile(self.template, folder / DB_FILE)
        return folder

    @asynccontextmanager
    async def session(self, **overrides: Any) -> AsyncIterator[Client[Any]]:
        """A client on a brand-new database (settings ``overrides`` such as default_plan apply to this task)."""
        assert self.runtime._users == 0, "a previous task left the runtime running"
        self.runtime.settings = settings_for(self._fresh_dir(), **overrides)
        with quiet():
            async with Client(self.gateway, mode="auto") as client:
                yield client

    @contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        """Calls made meanwhile come from another person (e.g. a reviewer approving content the agent wrote)."""
        before = self.runtime.settings
        self.runtime.settings = before.model_copy(update={"actor": actor})
        try:
            yield
        finally:
            self.runtime.settings = before

    async def tools(self) -> list[Tool]:
        """tools/list of the gateway (a short-lived session on a fresh database)."""
        async with self.session() as client:
            return await client.list_tools()

    def close(self) -> None:
        """Remove the scratch folder when this suite made it."""
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _scratch() -> str | None:
    """/dev/shm where writable: SQLite syncs every commit, and RAM makes that free."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


async def call(client: Client[Any], tool: str, arguments: dict[str, Any]) -> Outcome:
    """tools/call without raising on isError."""
    return outcome_of(await client.call_tool_mcp(tool, arguments))

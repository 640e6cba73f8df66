"""``promptsales serve --transport stdio`` launched exactly as the README's Claude Desktop entry does.

README configuration::

    {"mcpServers": {"promptsales": {
        "command": "<venv>/bin/promptsales",
        "args": ["serve", "--transport", "stdio"],
        "env": {"PROMPTSALES_DATA_DIR": "<dir>"}}}}

stdout carries only protocol messages; anything else printed there would break the client (the official
client turns every non-JSON-RPC stdout line into an exception, which these tests record and forbid).
"""

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from .conftest import CALL_TIMEOUT_S, MODERN, PROMPTSALES, capture_arguments, unique_email

pytestmark = pytest.mark.slow

HANDSHAKE_VERSION = "2025-11-25"


class StdioServerLog:
    """Where the stdio server's stderr goes (shown when a test fails)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def failure_log(self) -> tuple[str, str]:
        text = self.path.read_text(encoding="utf-8", errors="replace") if self.path.exists() else ""
        return "promptsales log (serve --transport stdio)", text


@pytest.fixture
def stdio_log(tmp_path: Path) -> StdioServerLog:
    return StdioServerLog(tmp_path / "stdio-server.log")


def claude_desktop_config(data_dir: Path) -> dict[str, Any]:
    """The README's Claude Desktop configuration, pointing at this virtual environment."""
    return {
        "mcpServers": {
            "promptsales": {
                "command": str(PROMPTSALES),
                "args": ["serve", "--transport", "stdio"],
                "env": {"PROMPTSALES_DATA_DIR": str(data_dir), "PROMPTSALES_DEFAULT_PLAN": "enterprise"},
            }
        }
    }


def _text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_claude_desktop_config_with_official_client(tmp_path: Path, stdio_log: StdioServerLog) -> None:
    config_file = tmp_path / "claude_desktop_config.json"
    config_file.write_text(json.dumps(claude_desktop_config(tmp_path / "data"), indent=2), encoding="utf-8")
    entry = json.loads(config_file.read_text(encoding="utf-8"))["mcpServers"]["promptsales"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"])
    email = unique_email("stdio")
    not_protocol: list[Exception] = []

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, Exception):  # a stdout line that is not a JSON-RPC message
            not_protocol.append(message)

    with stdio_log.path.open("w") as errlog, anyio.fail_after(60):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT_S, message_handler=on_message) as session,
        ):
            await session.discover()
            negotiated = session.protocol_version
            tools = await session.list_tools()
            captured = await session.call_tool("crm_capture_lead", capture_arguments(email))

    assert negotiated == MODERN
    names = [tool.name for tool in tools.tools]
    assert len(names) >= 20, names
    contexts = {name.split("_", 1)[0] for name in names}
    assert contexts == {"crm", "campaigns", "business", "content", "integrations"}, names
    assert {"crm_capture_lead", "crm_get_lead", "crm_import_leads"} <= set(names)

    assert captured.is_error is False, _text(captured)
    structured = captured.structured_content
    assert structured is not None
    assert structured["created"] is True
    assert structured["contact"]["email"] == email
    assert structured["lead"]["source_channel"] == "web_form"
    assert structured["lead"]["id"].startswith("ld_")
    assert json.loads(_text(captured)) == structured  # the text block carries the same JSON for plain clients

    # A stray print to stdout would not fail the calls above (the client skips the line), so check it here.
    assert not_protocol == []
    assert (tmp_path / "data" / "promptsales.db").is_file()  # embedded SQLite created in the configured dir


async def test_handshake_era_with_fastmcp_stdio_transport(tmp_path: Path, stdio_log: StdioServerLog) -> None:
    entry = claude_desktop_config(tmp_path / "data")["mcpServers"]["promptsales"]
    transport = StdioTransport(
        command=entry["command"], args=entry["args"], env=entry["env"], keep_alive=False, log_file=stdio_log.path
    )
    email = unique_email("legacy")
    client = Client(transport, mode="legacy", timeout=CALL_TIMEOUT_S)
    try:
        with anyio.fail_after(60):
            async with client:
                negotiated = client.protocol_version
                captured = await client.call_tool("crm_capture_lead", capture_arguments(email))
                lead_id = (captured.structured_content or {})["lead"]["id"]
                fetched = await client.call_tool("crm_get_lead", {"lead_id": lead_id})
    finally:
        await transport.close()  # type: ignore[no-untyped-call]

    assert negotiated == HANDSHAKE_VERSION
    assert captured.is_error is False
    assert (captured.structured_content or {})["contact"]["email"] == email
    assert (fetched.structured_content or {})["id"] == lead_id
    assert (fetched.structured_content or {})["touch_count"] == 1

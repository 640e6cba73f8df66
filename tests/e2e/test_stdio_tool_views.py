"""``promptsales serve --transport stdio`` with a tool selection (``--toolsets``, ``--read-only``, ``--compact``),
driven by the official fastmcp client over stdio, as a desktop client would launch it."""

from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from .conftest import CALL_TIMEOUT_S, PROMPTSALES, base_env, run_cli

pytestmark = pytest.mark.slow


def _client(data_dir: Path, log: Path, *options: str) -> tuple[Client, StdioTransport]:
    """A client of ``promptsales serve --transport stdio OPTIONS`` (not yet connected) and its transport."""
    env = {
        "PROMPTSALES_DATA_DIR": str(data_dir),
        "PROMPTSALES_DEFAULT_PLAN": "enterprise",
        "FASTMCP_CHECK_FOR_UPDATES": "off",
    }
    transport = StdioTransport(
        command=str(PROMPTSALES),
        args=["serve", "--transport", "stdio", *options],
        env=env,
        keep_alive=False,
        log_file=log,
    )
    return Client(transport, timeout=CALL_TIMEOUT_S), transport


async def test_toolsets_and_read_only_over_stdio(tmp_path: Path) -> None:
    client, transport = _client(tmp_path / "data", tmp_path / "stdio.log", "--toolsets", "crm", "--read-only")
    try:
        with anyio.fail_after(60):
            async with client:
                tools = await client.list_tools()
                refused = await client.call_tool_mcp("crm_capture_lead", {"source_channel": "web_form"})
                read = await client.call_tool_mcp("crm_list_leads", {})
    finally:
        await transport.close()  # type: ignore[no-untyped-call]
    assert tools and all(tool.name.startswith("crm_") for tool in tools)
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools)
    assert "crm_list_leads" in {tool.name for tool in tools}
    assert refused.is_error and refused.content[0].text == "Unknown tool: 'crm_capture_lead'"  # type: ignore[union-attr]
    assert not read.is_error


async def test_compact_over_stdio(tmp_path: Path) -> None:
    client, transport = _client(tmp_path / "data", tmp_path / "stdio.log", "--compact", "--toolsets", "content")
    try:
        with anyio.fail_after(60):
            async with client:
                names = [tool.name for tool in await client.list_tools()]
                found = await client.call_tool_mcp("search_tools", {"query": "lead copy plan brand", "limit": 50})
                outside = await client.call_tool_mcp("call_tool", {"name": "business_list_plans"})
    finally:
        await transport.close()  # type: ignore[no-untyped-call]
    assert names == ["search_tools", "describe_tool", "call_tool"]
    hits = (found.structured_content or {})["tools"]
    assert hits and all(hit["name"].startswith("content_") for hit in hits)
    assert outside.is_error and "Unknown tool: 'business_list_plans'" in outside.content[0].text  # type: ignore[union-attr]


def test_a_bad_selection_stops_serve_with_a_message(tmp_path: Path) -> None:
    # A misspelt tool name is checked against the built catalogue (unknown toolsets: tests/unit/test_tool_selection.py).
    done = run_cli("serve", "--transport", "stdio", "--tools", "crm_get_lead,crm_typo", env=base_env(tmp_path / "data"))
    assert done.returncode == 2, done.stderr
    assert "Invalid tool selection" in done.stderr and "crm_typo" in done.stderr, done.stderr
    assert done.stdout == ""  # stdout belongs to the protocol

"""Modern HTTP calls get tool schemas from a table built at start, not from a tools/list per call."""

from pathlib import Path

from fastmcp import Client

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime


async def test_gateway_serves_input_schemas_from_a_table(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path, tenant="acme"))
    gateway = build_gateway(runtime)
    async with Client(gateway) as client:
        listed = {tool.name: tool.input_schema for tool in await client.list_tools()}
        lookup = gateway._mcp_server.get_tool_input_schema
        assert lookup is not None
        assert lookup("crm_get_lead") == listed["crm_get_lead"]
        capture = lookup("crm_capture_lead")
        assert capture is not None
        assert capture["properties"]["source_channel"] == listed["crm_capture_lead"]["properties"]["source_channel"]
        assert lookup("crm_no_such_tool") is None

"""The DAST catalogue covers every tool the gateway lists, so a new tool cannot escape the security pass."""

import sys
from pathlib import Path

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "evals" / "security"))
from catalogue import catalogue, id_parameters, url_parameters


async def test_every_listed_tool_gets_its_probe_classes(tmp_path: Path) -> None:
    # The whole catalogue (what the enterprise plan the DAST pass serves lists); listing needs no database.
    gateway = build_gateway(Runtime(Settings(data_dir=tmp_path)))
    tools = await gateway.list_tools(run_middleware=False)
    listed = [tool.to_mcp_tool().model_dump(by_alias=True, mode="json") for tool in tools]
    covered = catalogue(listed)
    assert set(covered) == {tool["name"] for tool in listed}
    for tool in listed:
        classes = covered[tool["name"]]
        assert "API2 broken authentication" in classes and "API4 rate limits" in classes
        if id_parameters(tool["inputSchema"]):
            assert "API1 object-level authorisation" in classes, tool["name"]
        if url_parameters(tool["inputSchema"]):
            assert "API7 SSRF" in classes, tool["name"]
    # The tools that take an object id are the BOLA surface: a schema change that hid them would show here.
    assert sum("API1 object-level authorisation" in c for c in covered.values()) >= 30
    assert any("base_url" in url_parameters(tool["inputSchema"]) for tool in listed), "the LLM base URL is probed"

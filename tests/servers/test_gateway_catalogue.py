"""The gateway serves every context's tools from its own registry; prompts and resources stay mounted (issue 13)."""

import pytest
from fastmcp import FastMCP

from promptsales.servers.catalogue import local_tools


@pytest.mark.asyncio(loop_scope="session")
async def test_every_listed_tool_is_the_gateways_own(gateway: FastMCP) -> None:
    listed = {tool.name for tool in await gateway.list_tools(run_middleware=False)}
    own = {tool.name for tool in local_tools(gateway)}
    assert listed and listed <= own
    assert {name.split("_", 1)[0] for name in own} >= {"crm", "campaigns", "content", "business", "integrations"}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_tool_is_found_by_its_namespaced_name_only(gateway: FastMCP) -> None:
    assert await gateway.get_tool("crm_get_lead") is not None
    assert await gateway.get_tool("get_lead") is None


@pytest.mark.asyncio(loop_scope="session")
async def test_mounted_contexts_still_serve_prompts_and_resources(gateway: FastMCP) -> None:
    prompts = {prompt.name for prompt in await gateway.list_prompts()}
    resources = [str(resource.uri) for resource in await gateway.list_resources()]
    assert any(name.startswith("crm_") for name in prompts)
    assert any("/crm/" in uri for uri in resources) or any("crm" in uri for uri in resources)

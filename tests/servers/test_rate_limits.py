"""Every tool call passes the tenant's rate limit for its class (crm reads vs crm writes)."""

from pathlib import Path

from fastmcp import Client

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime


async def test_writes_over_the_limit_are_refused_with_a_retry_time(tmp_path: Path) -> None:
    runtime = Runtime(
        Settings(data_dir=tmp_path, tenant="acme", rate_limits_enabled=True, rate_limit_writes_per_minute=3)
    )
    async with Client(build_gateway(runtime)) as client:
        for n in range(3):
            ok = await client.call_tool_mcp("crm_create_organization", {"name": f"Org {n}"})
            assert not ok.is_error
        refused = await client.call_tool_mcp("crm_create_organization", {"name": "One too many"})
        assert refused.is_error
        text = refused.content[0].text
        assert "Rate limit for crm writes" in text and "3 per minute" in text and "retry in" in text
        # Reads are a separate bucket, and the refused write changed nothing.
        found = await client.call_tool_mcp("crm_search_contacts", {})
        assert not found.is_error
    rejected = runtime.registry.get_sample_value(
        "promptsales_tool_calls_total", {"tool": "crm_create_organization", "outcome": "rejected"}
    )
    assert rejected == 1


async def test_read_only_tools_use_the_read_bucket_whatever_their_verb(tmp_path: Path) -> None:
    runtime = Runtime(
        Settings(data_dir=tmp_path, tenant="acme", rate_limits_enabled=True, rate_limit_writes_per_minute=1)
    )
    async with Client(build_gateway(runtime)) as client:
        for _ in range(3):  # check_/classify_ are not read verbs by name, but the tools only read
            checked = await client.call_tool_mcp("business_check_entitlement", {"feature": "channel:email"})
            assert not checked.is_error, checked.content[0].text
            classified = await client.call_tool_mcp("content_classify_text", {"text": "How much is the Pro plan?"})
            assert not classified.is_error, classified.content[0].text


async def test_limits_can_be_switched_off(tmp_path: Path) -> None:
    runtime = Runtime(
        Settings(data_dir=tmp_path, tenant="acme", rate_limits_enabled=False, rate_limit_writes_per_minute=1)
    )
    async with Client(build_gateway(runtime)) as client:
        for n in range(3):
            assert not (await client.call_tool_mcp("crm_create_organization", {"name": f"Org {n}"})).is_error

"""The tool list a client is shown stays affordable and true (issue 12, budgets).

Sizes are not timings, so they are asserted: no input schema over 8,000 characters, the totals within the
issue's 20k / 40k token targets and under the ceilings the schema compaction and the trimmed wording reached.
Every published schema is valid JSON Schema with resolvable
``$ref``s, and real results validate against the published (compacted) output schemas.
"""

from typing import Any

from fastmcp import Client, FastMCP
from jsonschema import Draft202012Validator

from promptsales.servers.runtime import Runtime
from promptsales.servers.tool_budget import (
    FULL_TOKEN_BUDGET,
    INPUT_SCHEMA_CHAR_LIMIT,
    MODEL_FACING_TOKEN_BUDGET,
    Budget,
    measure,
    wire,
)
from tests.servers.conftest import Crm
from tests.servers.test_analytics_tools import TODAY, live_campaign

# What the compaction and the trimmed wording reached (README "Tool budget"); a change that grows the list past
# these must say why.
MODEL_FACING_TOKEN_CEILING = 20_000
FULL_TOKEN_CEILING = 37_000


async def listed(client: Client) -> list[dict[str, Any]]:
    """tools/list as wire JSON."""
    return [wire(tool) for tool in (await client.list_tools_mcp()).tools]


async def budget_of(client: Client) -> Budget:
    """The figures evals/tool_budget.py prints, for this client's tools/list."""
    return measure(await listed(client))


def refs(node: Any) -> list[str]:
    """Every ``$ref`` value in ``node``."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


async def test_every_context_is_listed_and_no_input_schema_is_too_big(client: Client) -> None:
    budget = await budget_of(client)
    assert set(budget.by_context()) == {"crm", "campaigns", "content", "business", "integrations"}
    too_big = [(t.name, t.input_schema) for t in budget.tools if t.input_schema > INPUT_SCHEMA_CHAR_LIMIT]
    assert not too_big


async def test_the_totals_stay_under_what_the_compaction_reached(client: Client) -> None:
    budget = await budget_of(client)
    assert budget.model_facing_tokens <= MODEL_FACING_TOKEN_CEILING, budget.summary()
    assert budget.full_tokens <= FULL_TOKEN_CEILING, budget.summary()


async def test_a_model_is_shown_at_most_20k_tokens(client: Client) -> None:
    assert (await budget_of(client)).model_facing_tokens <= MODEL_FACING_TOKEN_BUDGET


async def test_the_full_tool_list_is_at_most_40k_tokens(client: Client) -> None:
    assert (await budget_of(client)).full_tokens <= FULL_TOKEN_BUDGET


async def test_every_schema_is_valid_json_schema_and_its_refs_resolve(client: Client) -> None:
    for tool in await listed(client):
        inputs, outputs = tool["inputSchema"], tool["outputSchema"]
        Draft202012Validator.check_schema(inputs)
        Draft202012Validator.check_schema(outputs)
        assert not refs(inputs), f"{tool['name']}: input schemas stay self-contained"
        for ref in refs(outputs):
            assert ref.startswith("#/$defs/"), (tool["name"], ref)
            assert ref.removeprefix("#/$defs/") in outputs["$defs"], (tool["name"], ref)
        assert "title" not in outputs and "description" not in outputs, tool["name"]


async def test_results_validate_against_the_published_output_schemas(client: Client, runtime: Runtime) -> None:
    """Results of every context checked with jsonschema, independently of the MCP client's own check."""
    schemas = {tool["name"]: tool["outputSchema"] for tool in await listed(client)}
    campaign = await live_campaign(client, runtime)
    crm = Crm(client)
    captured = await crm.strong_lead("cto@acme.com")
    await runtime.drain_events()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("campaigns_get_campaign", {"campaign_id": campaign["id"]}),
        ("campaigns_get_insights", {"since": TODAY.isoformat(), "until": TODAY.isoformat()}),
        ("campaigns_list_campaigns", {}),
        ("crm_get_lead", {"lead_id": captured["lead"]["id"]}),
        ("crm_get_customer_360", {"contact_id": captured["contact"]["id"]}),
        ("crm_list_leads", {}),
        ("business_get_subscription", {}),
        ("content_get_ai_settings", {}),
        ("integrations_list_connectors", {}),
    ]
    checked = {"crm_capture_lead": captured}
    for name, arguments in calls:
        result = await client.call_tool_mcp(name, arguments)
        assert not result.is_error, (name, result.content)
        checked[name] = result.structured_content
    for name, content in checked.items():
        errors = list(Draft202012Validator(schemas[name]).iter_errors(content))
        assert not errors, (name, [e.message for e in errors[:3]])


async def test_the_schema_lookup_table_holds_the_compacted_input_schemas(client: Client, gateway: FastMCP) -> None:
    lookup = gateway._mcp_server.get_tool_input_schema
    listed_inputs = {tool["name"]: tool["inputSchema"] for tool in await listed(client)}
    assert {name: lookup(name) for name in listed_inputs} == listed_inputs

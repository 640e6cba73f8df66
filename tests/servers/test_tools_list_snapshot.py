"""What a client discovers: the gateway's tools (pinned in a snapshot), resources and prompts.

Run with UPDATE_SNAPSHOTS=1 to rewrite snapshots/tools_list.json after an intended change, then review the diff:
every change there is a change of what models see.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastmcp.exceptions import McpError

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools_list.json"
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
PAYPAL_TOOLS = {"business_start_checkout", "business_cancel_subscription", "business_set_paypal_account"}
# Tools that may call a model provider outside (when the tenant's provider is an API).
MODEL_TOOLS = {
    "content_generate_copy",
    "content_generate_image",
    "content_generate_video",
    "content_classify_text",
    "content_summarize",
    "content_extract_fields",
}
# Tools that talk to a connected platform (its simulator in sandbox mode).
PLATFORM_TOOLS = {
    "integrations_connect",
    "integrations_test_connection",
    "integrations_sync",
    "integrations_list_ad_accounts",
    "integrations_list_designs",
    "integrations_send_message",
    "content_import_design",
    "content_push_brand_kit",
}
# Campaign tools that create, enable, pause or re-budget objects on the ad and email platforms.
CAMPAIGN_PLATFORM_TOOLS = {
    "campaigns_activate_campaign",
    "campaigns_pause_campaign",
    "campaigns_resume_campaign",
    "campaigns_end_campaign",
    "campaigns_update_budget",
    "campaigns_rollback_change",
}
# Analytics tools that read the ad and email platforms' reports (insights pull stale results first).
ANALYTICS_PLATFORM_TOOLS = {"campaigns_get_insights", "campaigns_refresh_performance"}
OPEN_WORLD = PAYPAL_TOOLS | MODEL_TOOLS | PLATFORM_TOOLS | CAMPAIGN_PLATFORM_TOOLS | ANALYTICS_PLATFORM_TOOLS


def describe(tool: Any) -> dict[str, Any]:
    wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "name": wire["name"],
        "description": wire.get("description"),
        "inputSchema": wire["inputSchema"],
        "outputSchema": wire.get("outputSchema"),
        "annotations": wire.get("annotations"),
    }


# Parameters whose name (with their type and bounds) says all a description would (issue 12: descriptions that
# restate the name are dropped to keep the tool list within budget). Any other parameter needs a description.
SELF_DESCRIBING = frozenset(
    {
        "alpha",
        "attributes",
        "base_url",
        "campaign_id",
        "change_id",
        "channel",
        "channels",
        "clear_manual_stage",
        "client_id",
        "client_secret",
        "company",
        "compare_previous",
        "contact_id",
        "created_from",
        "created_to",
        "cursor",
        "dayparting",
        "description",
        "design_id",
        "duplicate_id",
        "email",
        "employee_count",
        "experiment_id",
        "first_name",
        "guardrails",
        "idempotency_key",
        "industry",
        "influencers",
        "is_default",
        "kpis",
        "landing_page",
        "last_name",
        "lead_id",
        "limit",
        "markets",
        "max_chars",
        "max_score",
        "max_sentences",
        "min_score",
        "name",
        "note",
        "occurred_at",
        "organization_id",
        "platform",
        "power",
        "product",
        "query",
        "reason",
        "referrer",
        "region",
        "relative_effect",
        "remove_channels",
        "rule",
        "run_id",
        "segment_id",
        "start_date",
        "survivor_id",
        "tag",
        "tags",
        "text",
        "timeline_cursor",
        "timeline_limit",
        "title",
        "transcript",
        "user_input",
        "variant",
        "variants",
        "asset_id",
    }
)


def is_documented(schema: dict[str, Any], name: str = "") -> bool:
    """A description, or a closed choice (enum) / shared definition ($ref), here or in an anyOf branch; or a
    parameter whose name describes it (``SELF_DESCRIBING``)."""
    branches = [schema, *schema.get("anyOf", [])]
    described = any("description" in b or "enum" in b or "const" in b or "$ref" in b for b in branches)
    return described or name in SELF_DESCRIBING


async def test_tools_list_matches_the_snapshot(client) -> None:
    listed = sorted((describe(t) for t in await client.list_tools()), key=lambda t: t["name"])
    rendered = json.dumps(listed, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing; run with UPDATE_SNAPSHOTS=1 to create it"
    pinned = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert [t["name"] for t in listed] == [t["name"] for t in pinned], "tools were added or removed"
    for now, before in zip(listed, pinned, strict=True):
        assert now == before, f"{now['name']} changed; review it and run with UPDATE_SNAPSHOTS=1"


async def test_both_protocol_eras_list_the_same_tools(era_client) -> None:
    listed = sorted((describe(t) for t in await era_client.list_tools()), key=lambda t: t["name"])
    pinned = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert listed == pinned


async def test_every_tool_is_described_and_annotated_truthfully(client) -> None:
    tools = await client.list_tools()
    assert tools
    for tool in tools:
        wire = describe(tool)
        assert wire["name"].startswith(("crm_", "campaigns_", "business_", "content_", "integrations_"))
        assert wire["description"] and len(wire["description"]) > 20, wire["name"]
        assert wire["outputSchema"] and wire["outputSchema"]["type"] == "object", wire["name"]
        schema = wire["inputSchema"]
        assert schema["type"] == "object"
        assert schema.get("additionalProperties") is False, wire["name"]
        for name, prop in schema.get("properties", {}).items():
            assert is_documented(prop, name), f"{wire['name']}.{name} has no description"
        annotations = wire["annotations"]
        assert annotations is not None, wire["name"]
        # readOnlyHint is always published; the others only where they differ from MCP's defaults.
        assert isinstance(annotations.get("readOnlyHint"), bool), f"{wire['name']} lacks readOnlyHint"
        for name, value in annotations.items():
            assert name in HINTS and isinstance(value, bool) and value != WIRE_HINT_DEFAULTS.get(name), (wire, name)
        if annotations["readOnlyHint"]:  # the write hints mean nothing for a read-only tool
            assert not {"destructiveHint", "idempotentHint"} & annotations.keys(), wire["name"]
        # Only PayPal's tools, those that may call a model provider and the platform tools reach outside.
        assert annotations.get("openWorldHint", True) is (wire["name"] in OPEN_WORLD), wire["name"]


# MCP's defaults for hints a tool leaves out (mcp.types.ToolAnnotations); readOnlyHint is always published.
HINT_DEFAULTS = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": False, "open_world_hint": True}
WIRE_HINT_DEFAULTS = {"destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


def hint(annotations: Any, name: str) -> bool:
    """A tool's hint as a client must read it: the published value, else MCP's default."""
    value = getattr(annotations, name)
    return HINT_DEFAULTS[name] if value is None else bool(value)


async def test_hints_match_what_the_tools_do(client) -> None:
    hints = {t.name: t.annotations for t in await client.list_tools()}
    read_only = {name for name, a in hints.items() if a.read_only_hint}
    assert read_only == {
        "crm_get_contact",
        "crm_search_contacts",
        "crm_search_organizations",
        "crm_get_lead",
        "crm_list_leads",
        "crm_get_scoring_rules",
        "crm_preview_segment",
        "crm_list_segment_members",
        "crm_list_segments",
        "crm_get_customer_360",
        "crm_list_flows",
        "business_list_plans",
        "business_get_subscription",
        "business_check_entitlement",
        "business_get_usage",
        "business_list_payments",
        "business_get_paypal_account",
        "content_check_copy",
        "content_rewrite_copy",
        "content_get_brand_kit",
        "content_list_assets",
        "content_get_asset",
        "content_classify_text",
        "content_summarize",
        "content_extract_fields",
        "content_get_ai_settings",
        "integrations_list_connectors",
        "integrations_test_connection",
        "integrations_get_sync_run",
        "integrations_list_sync_runs",
        "integrations_list_ad_accounts",
        "integrations_list_designs",
        "campaigns_get_campaign",
        "campaigns_list_campaigns",
        "campaigns_check_compliance",
        "campaigns_get_spend_caps",
        "campaigns_get_insights",
        "campaigns_get_attribution",
        "campaigns_compare_attribution_models",
        "campaigns_list_experiments",
    }
    # capture_lead appends a touch on every call, so a repeat is not free of effects.
    assert hint(hints["crm_capture_lead"], "idempotent_hint") is False
    assert hint(hints["crm_log_interaction"], "idempotent_hint") is False
    assert hint(hints["crm_merge_contacts"], "destructive_hint") is True
    assert hint(hints["crm_set_scoring_rules"], "destructive_hint") is True
    assert hint(hints["crm_import_leads"], "idempotent_hint") is True
    # Connecting again replaces the stored credentials; a sync re-run changes nothing more.
    assert hint(hints["integrations_connect"], "destructive_hint") is True
    assert hint(hints["integrations_sync"], "idempotent_hint") is True
    # Without an idempotency_key a repeat sends another message; a message is not taken back.
    assert hint(hints["integrations_send_message"], "idempotent_hint") is False
    assert hint(hints["integrations_send_message"], "destructive_hint") is False
    # The preview writes a one-use confirmation token; activation starts delivery; pausing, ending and budget moves
    # stop or replace what delivers.
    assert hint(hints["campaigns_preview_activation"], "read_only_hint") is False
    assert hint(hints["campaigns_preview_activation"], "destructive_hint") is False
    assert hint(hints["campaigns_activate_campaign"], "destructive_hint") is False
    stopping = {"campaigns_pause_campaign", "campaigns_end_campaign", "campaigns_update_budget"}
    assert all(hint(hints[name], "destructive_hint") for name in stopping | {"campaigns_rollback_change"})
    assert hint(hints["campaigns_plan_campaign"], "open_world_hint") is False
    # A look at an experiment lowers its running always-valid p-values; an exposure is recorded once.
    assert hint(hints["campaigns_get_experiment_results"], "read_only_hint") is False
    assert hint(hints["campaigns_assign_variant"], "idempotent_hint") is True


async def test_resources_and_templates_are_listed_and_readable(era_client) -> None:
    uris = sorted(str(r.uri) for r in await era_client.list_resources())
    assert uris == [
        "business://business/plans",
        "content://content/brand-kit",
        "content://content/channel-specs",
        "crm://crm/flows",
        "crm://crm/scoring-rules",
    ]
    templates = sorted(t.uri_template for t in await era_client.list_resource_templates())
    assert templates == [
        "content://content/assets/{asset_id}",
        "content://content/brand-kits/{name}",
        "content://content/files/{sha256}",
        "crm://crm/flows/{flow_id}",
    ]
    for uri in [u for u in uris if u != "content://content/brand-kit"]:  # no kit yet: a clean not-found
        contents = await era_client.read_resource(uri)
        assert contents[0].mime_type == "application/json"
        assert json.loads(contents[0].text)
    rules = json.loads((await era_client.read_resource("crm://crm/scoring-rules"))[0].text)
    assert rules["stages"]["mql_min_score"] == 40
    flows = json.loads((await era_client.read_resource("crm://crm/flows"))[0].text)
    assert [f["id"] for f in flows["items"]] == ["bant-qualification"]
    flow = (await era_client.read_resource("crm://crm/flows/bant-qualification"))[0]
    assert flow.mime_type == "application/json"
    assert json.loads(flow.text)["steps"]["ask_need"]["field"] == "need"


async def test_an_unknown_flow_resource_is_a_clean_error(client) -> None:
    with pytest.raises(McpError) as caught:
        await client.read_resource("crm://crm/flows/no-such-flow")
    message = str(caught.value)
    assert "no-such-flow" in message
    assert "Traceback" not in message


async def test_the_qualify_lead_prompt_is_listed_and_renders(era_client) -> None:
    prompts = {p.name: p for p in await era_client.list_prompts()}
    assert set(prompts) == {
        "crm_qualify_lead",
        "launch_campaign_for_goal",
        "write_ad_set",
        "weekly_performance_report",
        "follow_up_sequence",
    }
    arguments = {a.name: a.required for a in prompts["crm_qualify_lead"].arguments}
    assert arguments == {"email": True, "channel": False}
    rendered = await era_client.get_prompt("crm_qualify_lead", {"email": "ann@example.com", "channel": "voice"})
    text = rendered.messages[0].content.text
    assert rendered.messages[0].role == "user"
    assert "ann@example.com" in text
    assert "'voice'" in text
    assert "bant-qualification" in text
    default = await era_client.get_prompt("crm_qualify_lead", {"email": "bo@example.com"})
    assert "'chat'" in default.messages[0].content.text

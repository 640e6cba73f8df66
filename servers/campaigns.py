"""The campaigns MCP server: plan campaigns from goals, review them, activate them on platforms and steer them."""

from fastmcp import FastMCP

from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas
from promptsales.tools.analytics import attribution, experiments, insights
from promptsales.tools.campaigns import activation, caps, changes, planning, review

INSTRUCTIONS = (
    "PromptSales campaigns: plan a campaign from a goal, attach approved creatives, check compliance, submit it "
    "for a person's approval, preview then activate it on ad and email platforms (sandbox by default), and pause, "
    "resume, end or re-budget it within the tenant's spend caps. get_campaign shows what runs and the leads it brought "
    "and get_insights reads performance with the CRM's outcomes (and charts), get_attribution credits conversions to "
    "channels under several models, and experiments test variants with statistics safe to check daily."
)


def build_campaigns_server(runtime: Runtime, *, standalone: bool = True) -> FastMCP:
    """The campaigns server; standalone servers own the runtime lifespan and the call middleware."""
    server = FastMCP(
        "promptsales-campaigns",
        instructions=INSTRUCTIONS,
        lifespan=runtime_lifespan(runtime) if standalone else None,
        middleware=[call_middleware(runtime)] if standalone else [],
        mask_error_details=True,
    )
    planning.register(server, runtime)
    review.register(server, runtime)
    activation.register(server, runtime)
    changes.register(server, runtime)
    caps.register(server, runtime)
    # Analytics is its own context in the domain core; its tools serve the same people, so they live here.
    insights.register(server, runtime)
    attribution.register(server, runtime)
    experiments.register(server, runtime)
    if standalone:  # mounted servers are compacted by the gateway, once, after mounting
        compact_tool_schemas(server)
    return server

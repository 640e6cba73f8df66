"""Insights tools: campaign performance joined with CRM outcomes, optionally drawn, and pulling results now."""

import base64
from typing import Annotated

from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult
from mcp.types import ImageContent, TextContent, ToolAnnotations
from pydantic import Field

from promptsales.domain_core.analytics.commands import Breakdown, Chart, InsightsQuery, RefreshPerformance
from promptsales.domain_core.analytics.dto import InsightsView, RefreshResult
from promptsales.tools.analytics.fields import CampaignIds, Since, Until, window
from promptsales.tools.context import ToolRuntime

# Reads stored facts, but first pulls stale platform results, so it reaches outside.
READ_PLATFORMS = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
PULL = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the insights tools to ``mcp``."""

    @mcp.tool(
        annotations=READ_PLATFORMS,
        tags={"campaigns", "read", "analytics"},
        output_schema=InsightsView.model_json_schema(),
    )
    async def get_insights(
        ctx: Context,
        campaign_ids: CampaignIds = None,
        since: Since = None,
        until: Until = None,
        breakdown: Annotated[Breakdown, Field()] = "channel",
        compare_previous: Annotated[bool, Field()] = True,
        chart: Annotated[Chart, Field(description="Also a PNG chart.")] = "none",
        cursor: Annotated[str | None, Field(default=None, max_length=500)] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 25,
    ) -> ToolResult:
        """Campaign performance: spend, clicks, leads, revenue, CPL/CPA/ROAS, pacing, targets and anomalies."""
        first, last = window(since, until)
        query = InsightsQuery(
            campaign_ids=campaign_ids,
            since=first,
            until=last,
            breakdown=breakdown,
            compare_previous=compare_previous,
            cursor=cursor,
            limit=limit,
        )
        caller = runtime.caller(ctx)
        view = await runtime.analytics.get_insights(caller, query)
        structured = view.model_dump(mode="json")
        if chart == "none":
            return ToolResult(structured_content=structured)
        png = await runtime.analytics.chart(caller, query, chart, view)
        return ToolResult(
            content=[
                ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"),
                TextContent(type="text", text=f"{chart} chart, {first} to {last}; figures in the structured content."),
            ],
            structured_content=structured,
        )

    @mcp.tool(annotations=PULL, tags={"campaigns", "write", "analytics"})
    async def refresh_performance(
        ctx: Context, campaign_ids: CampaignIds = None, since: Since = None, until: Until = None
    ) -> RefreshResult:
        """Pull platform results now (campaigns_get_insights does it when figures are stale)."""
        command = RefreshPerformance(campaign_ids=campaign_ids, since=since, until=until)
        return await runtime.analytics.refresh(runtime.caller(ctx), command)

"""Campaigns tools for planning: plan a campaign from a goal, read and list campaigns, edit a plan before it runs."""

from datetime import date
from typing import Annotated

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.campaigns.commands import (
    ChannelChange,
    Influencer,
    LandingUrl,
    PlanCampaign,
    TimeZone,
    UpdateCampaign,
)
from promptsales.domain_core.campaigns.dto import CampaignPage, CampaignView
from promptsales.domain_core.campaigns.model.lifecycle import Status
from promptsales.domain_core.campaigns.model.plan import (
    Daypart,
    Kpi,
    KpiMetric,
    Market,
    Objective,
    Pacing,
    ProductCategory,
    SpecialAdCategory,
)
from promptsales.tools.campaigns.fields import Amount, CampaignId, ChannelId, Currency, OptionalReason, TargetValue
from promptsales.tools.context import CREATE, READ, UPSERT, Cursor, IdempotencyKey, Limit, ToolRuntime

CampaignName = Annotated[str, Field(min_length=1, max_length=200)]
Owner = Annotated[str | None, Field(default=None, min_length=1, max_length=128, description="User id or email.")]
SegmentId = Annotated[str | None, Field(default=None, min_length=1, max_length=40)]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the planning tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write"})
    async def plan_campaign(
        ctx: Context,
        name: CampaignName,
        objective: Annotated[Objective, Field()],
        product: Annotated[str, Field(min_length=1, max_length=500)],
        markets: Annotated[list[Market], Field(min_length=1, max_length=20)],
        start_date: Annotated[date, Field()],
        end_date: Annotated[date, Field(description="Inclusive.")],
        landing_url: Annotated[LandingUrl, Field(description="Where ads lead.")],
        budget: Amount = None,
        currency: Currency = "USD",
        target_metric: Annotated[KpiMetric | None, Field(default=None)] = None,
        target_value: TargetValue = None,
        max_cpa: Amount = None,
        industry: Annotated[str | None, Field(default=None, min_length=1, max_length=80)] = None,
        channels: Annotated[list[ChannelId] | None, Field(default=None, max_length=12)] = None,
        segment_id: SegmentId = None,
        pacing: Annotated[Pacing, Field()] = "even",
        time_zone: Annotated[TimeZone, Field(description="e.g. Europe/Madrid.")] = "UTC",
        special_ad_category: Annotated[SpecialAdCategory, Field()] = "none",
        product_category: Annotated[ProductCategory, Field()] = "general",
        owner: Owner = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CampaignView:
        """Plan a campaign from a goal: channels, budget split, bidding, targeting and forecast. Nothing is spent."""
        command = PlanCampaign(
            name=name,
            objective=objective,
            product=product,
            markets=tuple(markets),
            start_date=start_date,
            end_date=end_date,
            landing_url=landing_url,
            budget=budget,
            currency=currency,
            target_metric=target_metric,
            target_value=target_value,
            max_cpa=max_cpa,
            industry=industry,
            channels=tuple(channels) if channels is not None else None,
            segment_id=segment_id,
            pacing=pacing,
            time_zone=time_zone,
            special_ad_category=special_ad_category,
            product_category=product_category,
            owner=owner,
        )
        return await runtime.campaigns.plan_campaign(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"campaigns", "read"})
    async def get_campaign(ctx: Context, campaign_id: CampaignId) -> CampaignView:
        """A campaign: plan, status, platform objects, recent changes, leads and next steps."""
        return await runtime.campaigns.get_campaign(runtime.caller(ctx), campaign_id=campaign_id)

    @mcp.tool(annotations=READ, tags={"campaigns", "read"})
    async def list_campaigns(
        ctx: Context,
        status: Annotated[Status | None, Field(default=None)] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> CampaignPage:
        """Campaigns newest first."""
        return await runtime.campaigns.list_campaigns(runtime.caller(ctx), status=status, cursor=cursor, limit=limit)

    @mcp.tool(annotations=UPSERT, tags={"campaigns", "write"})
    async def update_campaign(
        ctx: Context,
        campaign_id: CampaignId,
        name: Annotated[CampaignName | None, Field(default=None)] = None,
        owner: Owner = None,
        landing_url: Annotated[LandingUrl | None, Field(default=None, description="Where ads lead.")] = None,
        channels: Annotated[
            list[ChannelChange] | None,
            Field(default=None, max_length=12, description="Approved creative_ids, bidding, budget."),
        ] = None,
        remove_channels: Annotated[list[ChannelId] | None, Field(default=None, max_length=12)] = None,
        start_date: Annotated[date | None, Field(default=None)] = None,
        end_date: Annotated[date | None, Field(default=None, description="Inclusive.")] = None,
        dayparting: Annotated[list[Daypart] | None, Field(default=None, max_length=14)] = None,
        kpis: Annotated[list[Kpi] | None, Field(default=None, max_length=10)] = None,
        special_ad_category: Annotated[SpecialAdCategory | None, Field(default=None)] = None,
        product_category: Annotated[ProductCategory | None, Field(default=None)] = None,
        influencers: Annotated[list[Influencer] | None, Field(default=None, max_length=50)] = None,
        reason: OptionalReason = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CampaignView:
        """Edit a campaign that is not live (omitted fields stay); an approved one needs approval again."""
        command = UpdateCampaign(
            campaign_id=campaign_id,
            name=name,
            owner=owner,
            landing_url=landing_url,
            channels=tuple(channels) if channels is not None else None,
            remove_channels=tuple(remove_channels) if remove_channels is not None else None,
            start_date=start_date,
            end_date=end_date,
            dayparting=tuple(dayparting) if dayparting is not None else None,
            kpis=tuple(kpis) if kpis is not None else None,
            special_ad_category=special_ad_category,
            product_category=product_category,
            influencers=tuple(influencers) if influencers is not None else None,
            reason=reason,
        )
        return await runtime.campaigns.update_campaign(runtime.caller(ctx), command, idempotency_key=idempotency_key)

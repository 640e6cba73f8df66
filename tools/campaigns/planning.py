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

CampaignName = Annotated[str, Field(min_length=1, max_length=200, description="A name people recognise.")]
Owner = Annotated[
    str | None, Field(default=None, min_length=1, max_length=128, description="Who is responsible (user id or email).")
]
SegmentId = Annotated[
    str | None, Field(default=None, min_length=1, max_length=40, description="CRM segment (seg_…) to reach.")
]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the planning tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write"})
    async def plan_campaign(
        ctx: Context,
        name: CampaignName,
        objective: Annotated[Objective, Field(description="What the campaign is for.")],
        product: Annotated[str, Field(min_length=1, max_length=500, description="What is advertised, in a line.")],
        markets: Annotated[
            list[Market], Field(min_length=1, max_length=20, description="Countries and their languages.")
        ],
        start_date: Annotated[date, Field(description="First day (YYYY-MM-DD).")],
        end_date: Annotated[date, Field(description="Last day, inclusive.")],
        landing_url: Annotated[LandingUrl, Field(description="Where ads lead; tracking parameters are added.")],
        budget: Amount = None,
        currency: Currency = "USD",
        target_metric: Annotated[KpiMetric | None, Field(default=None, description="The goal's metric.")] = None,
        target_value: TargetValue = None,
        max_cpa: Amount = None,
        industry: Annotated[
            str | None, Field(default=None, min_length=1, max_length=80, description="The buyers' industry.")
        ] = None,
        channels: Annotated[
            list[ChannelId] | None, Field(default=None, max_length=12, description="Only these channels.")
        ] = None,
        segment_id: SegmentId = None,
        pacing: Annotated[Pacing, Field(description="How spend is spread over the flight.")] = "even",
        time_zone: Annotated[TimeZone, Field(description="IANA zone of the dates, e.g. Europe/Madrid.")] = "UTC",
        special_ad_category: Annotated[
            SpecialAdCategory, Field(description="Regulated ad category (housing, employment, credit…).")
        ] = "none",
        product_category: Annotated[
            ProductCategory, Field(description="Restricted product kind, if any (alcohol, pharma…).")
        ] = "general",
        owner: Owner = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CampaignView:
        """Plan a campaign from a goal (e.g. 300 leads in Spain and Mexico for 15,000 EUR in March): channels,
        budget split, bidding, targeting and a forecast with its assumptions. Kept as planned; nothing is spent."""
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
        """A campaign: plan, status and history, the objects it runs on each platform (ids, tracking URLs), recent
        changes, leads it brought in, and the next steps."""
        return await runtime.campaigns.get_campaign(runtime.caller(ctx), campaign_id=campaign_id)

    @mcp.tool(annotations=READ, tags={"campaigns", "read"})
    async def list_campaigns(
        ctx: Context,
        status: Annotated[Status | None, Field(default=None, description="Only campaigns in this status.")] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> CampaignPage:
        """Campaigns newest first, optionally only those in one status."""
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
            Field(default=None, max_length=12, description="Per channel: approved creative_ids, bidding, budget…"),
        ] = None,
        remove_channels: Annotated[
            list[ChannelId] | None, Field(default=None, max_length=12, description="Channels to drop.")
        ] = None,
        start_date: Annotated[date | None, Field(default=None, description="New first day.")] = None,
        end_date: Annotated[date | None, Field(default=None, description="New last day, inclusive.")] = None,
        dayparting: Annotated[
            list[Daypart] | None, Field(default=None, max_length=14, description="Hours ads may deliver.")
        ] = None,
        kpis: Annotated[
            list[Kpi] | None, Field(default=None, max_length=10, description="Targets to judge by.")
        ] = None,
        special_ad_category: Annotated[SpecialAdCategory | None, Field(default=None)] = None,
        product_category: Annotated[ProductCategory | None, Field(default=None)] = None,
        influencers: Annotated[
            list[Influencer] | None, Field(default=None, max_length=50, description="Influencers and their briefs.")
        ] = None,
        reason: OptionalReason = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CampaignView:
        """Edit a campaign that is not live (omitted fields stay): attach approved creatives to channels, change
        bidding, budget, dates or targeting. An approved campaign goes back to planned and needs approval again."""
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

"""Commands: one frozen model per mutating campaigns use case, hashed whole for idempotency."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from promptsales.domain_core.campaigns.model.plan import (
    Bidding,
    Daypart,
    Kpi,
    KpiMetric,
    Market,
    Money,
    Objective,
    Pacing,
    ProductCategory,
    SpecialAdCategory,
    Targeting,
)
from promptsales.domain_core.shared.commands import Command
from promptsales.domain_core.shared.dto import Dto

CampaignId = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^cp_[0-9A-Za-z]+$")]
ChannelId = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z_]*$")]
AssetId = Annotated[str, Field(min_length=1, max_length=40)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
LandingUrl = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]
TimeZone = Annotated[str, Field(min_length=1, max_length=64)]


class Influencer(Dto):
    """A hired influencer."""

    handle: Annotated[str, Field(min_length=2, max_length=80, pattern=r"^@?[A-Za-z0-9_.]+$")]
    platform: Literal["instagram", "tiktok", "youtube", "x", "linkedin", "twitch", "other"]
    brief: Annotated[str, Field(min_length=1, max_length=4000)]
    disclosure: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    promo_code: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Z0-9_-]+$")] | None = None
    contact_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    fee: Money | None = None


class PlanCampaign(Command):
    """Plan a campaign from a goal: the planner fills in channels, budgets, bidding, targeting and the forecast."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    objective: Objective
    product: Annotated[str, Field(min_length=1, max_length=500)]
    markets: Annotated[tuple[Market, ...], Field(min_length=1, max_length=20)]
    start_date: date
    end_date: date
    landing_url: LandingUrl
    budget: Money | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    target_metric: KpiMetric | None = None
    target_value: Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"))] | None = None
    max_cpa: Money | None = None
    industry: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    channels: Annotated[tuple[ChannelId, ...], Field(min_length=1, max_length=12)] | None = None
    segment_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    pacing: Pacing = "even"
    time_zone: TimeZone = "UTC"
    special_ad_category: SpecialAdCategory = "none"
    product_category: ProductCategory = "general"
    owner: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class ChannelChange(Dto):
    """Changes to one channel; omitted fields stay."""

    channel: ChannelId
    creative_ids: Annotated[tuple[AssetId, ...], Field(max_length=20)] | None = None
    bidding: Bidding | None = None
    targeting: Targeting | None = None
    budget: Money | None = None
    formats: Annotated[tuple[Annotated[str, Field(max_length=40)], ...], Field(max_length=10)] | None = None


class UpdateCampaign(Command):
    """Edit a campaign that is not live; an approved campaign goes back to planned."""

    campaign_id: CampaignId
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    owner: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    landing_url: LandingUrl | None = None
    channels: Annotated[tuple[ChannelChange, ...], Field(max_length=12)] | None = None
    remove_channels: Annotated[tuple[ChannelId, ...], Field(max_length=12)] | None = None
    start_date: date | None = None
    end_date: date | None = None
    dayparting: Annotated[tuple[Daypart, ...], Field(max_length=14)] | None = None
    kpis: Annotated[tuple[Kpi, ...], Field(max_length=10)] | None = None
    special_ad_category: SpecialAdCategory | None = None
    product_category: ProductCategory | None = None
    influencers: Annotated[tuple[Influencer, ...], Field(max_length=50)] | None = None
    reason: Reason | None = None


class SubmitCampaign(Command):
    """Ask for the campaign to be approved: compliance decides whether a person must look at it."""

    campaign_id: CampaignId
    note: Reason | None = None


class DecideCampaign(Command):
    """A person's decision on a campaign in review."""

    campaign_id: CampaignId
    decision: Literal["approve", "reject"]
    note: Reason


class PreviewActivation(Command):
    """Work out what activation would create and issue a confirmation token for it."""

    campaign_id: CampaignId


class ActivateCampaign(Command):
    """Create the previewed objects on their platforms, paused, and enable them when all succeeded."""

    campaign_id: CampaignId
    confirmation_token: Annotated[str, Field(min_length=8, max_length=100)]


class ChangeStatus(Command):
    """Pause, resume or end a live campaign (end also archives a campaign that never ran)."""

    campaign_id: CampaignId
    action: Literal["pause", "resume", "end"]
    reason: Reason
    archive: bool = False


class UpdateBudget(Command):
    """Set a live campaign's daily budget for one channel (or all, scaled together)."""

    campaign_id: CampaignId
    daily_budget: Annotated[Decimal, Field(gt=0, le=Decimal("10000000"), max_digits=12, decimal_places=2)]
    channel: ChannelId | None = None
    reason: Reason
    confirmation_token: Annotated[str, Field(min_length=8, max_length=100)] | None = None


class RollbackChange(Command):
    """Restore the values a change replaced."""

    campaign_id: CampaignId
    change_id: Annotated[str, Field(min_length=4, max_length=40, pattern=r"^chg_[0-9A-Za-z]+$")]
    reason: Reason


class SetSpendCaps(Command):
    """The tenant's spend caps (None lifts one) and the largest budget step allowed without a confirmation."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    per_campaign: Money | None = None
    per_day: Money | None = None
    per_month: Money | None = None
    max_change_factor: Annotated[Decimal, Field(ge=Decimal("1.1"), le=Decimal("100"))] = Decimal(2)

"""Frozen DTOs the campaigns facade returns; they double as the tools' typed outputs."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from promptsales.domain_core.campaigns.commands import Influencer
from promptsales.domain_core.campaigns.model.compliance import ComplianceReport
from promptsales.domain_core.campaigns.model.lifecycle import Status
from promptsales.domain_core.campaigns.model.plan import (
    Budget,
    ChannelPlan,
    Forecast,
    Kpi,
    Market,
    Objective,
    ProductCategory,
    Schedule,
    SpecialAdCategory,
)
from promptsales.domain_core.shared.dto import Dto

ObjectKind = Literal["campaign", "audience", "ad_group", "ad", "email_campaign", "message_batch", "influencer_brief"]
ObjectStatus = Literal["planned", "paused", "active", "removed", "sent", "failed"]


class ObjectView(Dto):
    """Something a campaign made on a channel, with the platform's id and its tracked link."""

    id: str
    channel: str
    platform: str | None
    kind: ObjectKind
    name: str
    platform_id: str | None
    status: ObjectStatus
    daily_budget: Decimal | None = None
    bid: Decimal | None = None
    creative_id: str | None = None
    tracking_url: str | None = None
    error: str | None = None


class TransitionView(Dto):
    """A lifecycle step: from, to, who and why."""

    event: str
    from_status: str
    to_status: str
    actor_id: str
    actor_kind: str
    reason: str | None
    at: datetime


class ChangeView(Dto):
    """A change to a live campaign and the values it replaced (campaigns_rollback_change restores them)."""

    id: str
    kind: Literal["status", "budget"]
    channel: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    state: Literal["applied", "partial", "rolled_back"]
    reason: str | None
    actor_id: str
    at: datetime
    rolled_back_by: str | None = None


class CampaignResults(Dto):
    """Leads CRM captured through the campaign's tracking links."""

    leads: int = 0
    new_people: int = 0
    by_channel: dict[str, int] = Field(default_factory=dict)


class CampaignSummary(Dto):
    """A campaign in a list."""

    id: str
    name: str
    objective: Objective
    status: Status
    channels: list[str]
    budget_total: Decimal | None
    currency: str
    start_date: date
    end_date: date
    owner: str | None
    updated_at: datetime


class CampaignView(Dto):
    """A campaign: its plan, lifecycle, what runs on each platform, recent changes and results."""

    id: str
    name: str
    objective: Objective
    status: Status
    owner: str | None
    product: str
    industry: str | None
    special_ad_category: SpecialAdCategory
    product_category: ProductCategory
    markets: list[Market]
    schedule: Schedule
    budget: Budget
    channels: list[ChannelPlan]
    kpis: list[Kpi]
    forecast: Forecast | None
    assumptions: list[str]
    influencers: list[Influencer]
    segment_id: str | None
    landing_url: str
    tracking_template: str
    version: int
    created_by: str
    submitted_by: str | None
    approved_by: str | None
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    objects: list[ObjectView] = Field(default_factory=list)
    history: list[TransitionView] = Field(default_factory=list, description="Latest lifecycle steps first (max 10).")
    changes: list[ChangeView] = Field(default_factory=list, description="Latest changes first (max 10).")
    results: CampaignResults = CampaignResults()
    next_steps: list[str] = Field(default_factory=list)


class CampaignPage(Dto):
    """A page of campaigns, newest first."""

    items: list[CampaignSummary]
    next_cursor: str | None = None


class ComplianceView(Dto):
    """The compliance findings for a campaign as it stands."""

    campaign_id: str
    status: Status
    report: ComplianceReport


class SubmitResult(Dto):
    """Where a submitted campaign went (approved, or in review for a person) and why."""

    campaign: CampaignSummary
    compliance: ComplianceReport


class DecisionResult(Dto):
    """A person's decision on a campaign in review, and where the campaign stands after it."""

    campaign: CampaignSummary
    decision: TransitionView
    approved_by: str | None


class PlannedObject(Dto):
    """One object activation will create."""

    channel: str
    platform: str | None
    kind: ObjectKind
    name: str
    parent: str | None = None
    daily_budget: Decimal | None = None
    bid: Decimal | None = None
    targeting: dict[str, Any] = Field(default_factory=dict)
    creative_id: str | None = None
    tracking_url: str | None = None
    recipients: int | None = None
    reach: str | None = Field(default=None, description="The platform's audience estimate for an ad group.")


class ActivationPreview(Dto):
    """Exactly what campaigns_activate_campaign will create, the most it can spend, and the token that confirms it."""

    campaign_id: str
    objects: list[PlannedObject]
    max_daily_spend: Decimal
    max_total_spend: Decimal
    currency: str
    starts: date
    warnings: list[str] = Field(default_factory=list)
    confirmation_token: str
    expires_in_seconds: int


class ActivationResult(Dto):
    """What activation did on each platform; on any failure nothing is left delivering."""

    campaign: CampaignSummary
    outcome: Literal["active", "scheduled", "failed"]
    objects: list[ObjectView]
    problems: list[str] = Field(default_factory=list)


class BudgetPreview(Dto):
    """A budget step larger than the tenant allows without confirming: call again with the token."""

    before: Decimal
    after: Decimal
    factor: Decimal
    confirmation_token: str
    expires_in_seconds: int


class ChangeResult(Dto):
    """The campaign after a change to it, the change recorded, and the objects it touched."""

    campaign: CampaignSummary
    change: ChangeView | None = None
    objects: list[ObjectView] = Field(default_factory=list)
    needs_confirmation: BudgetPreview | None = None
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="How a whole-campaign budget was split, per channel.")


class SpendCapsView(Dto):
    """The tenant's spend caps and what live campaigns commit against them."""

    currency: str
    per_campaign: Decimal | None
    per_day: Decimal | None
    per_month: Decimal | None
    max_change_factor: Decimal
    committed_daily: Decimal
    committed_month: Decimal


class TrackedObject(Dto):
    """An object a campaign runs on a platform, as analytics joins results on it."""

    channel: str
    platform: str | None
    kind: ObjectKind
    name: str
    account_id: str | None
    platform_id: str
    status: ObjectStatus
    ad_ref: str | None = Field(default=None, description="The utm_content its links carry.")


class CampaignTracking(Dto):
    """What analytics needs of a campaign: the plan it is measured against and the objects it runs."""

    summary: CampaignSummary
    time_zone: str
    countries: list[str]
    budget_daily: Decimal | None
    kpis: list[Kpi]
    forecast: Forecast | None
    objects: list[TrackedObject]

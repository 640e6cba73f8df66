"""The inputs of analytics use cases, carried whole from the tool to the service (and hashed for idempotency)."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from promptsales.domain_core.analytics.model.attribution import ModelName
from promptsales.domain_core.shared.commands import Command

CampaignId = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^cp_[0-9A-Za-z]+$")]
ExperimentId = Annotated[str, Field(min_length=5, max_length=40, pattern=r"^exp_[0-9A-Za-z]+$")]
ContactId = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^ct_[0-9A-Za-z]+$")]
Breakdown = Literal["none", "channel", "campaign", "ad", "country", "day", "week"]
Chart = Literal["none", "trend", "channels", "funnel"]
ConversionStage = Literal["lead", "mql", "sql", "opportunity", "customer"]
Subject = Literal["ad", "email", "landing_page", "message"]
# Contact experiments (email, landing page, message) are read from the CRM: a stage reached after exposure, or the
# value won per contact; ad experiments from the platforms' figures and the leads each ad's links brought.
ContactMetric = Literal["lead", "mql", "sql", "opportunity", "customer", "revenue"]
AdMetric = Literal["ctr", "conversion_rate", "click_to_lead"]
Metric = Literal["lead", "mql", "sql", "opportunity", "customer", "revenue", "ctr", "conversion_rate", "click_to_lead"]


class InsightsQuery(Command):
    """Which campaigns, days and cut of the performance facts to read."""

    campaign_ids: list[CampaignId] | None = Field(default=None, max_length=20)
    since: date
    until: date
    breakdown: Breakdown = "channel"
    compare_previous: bool = True
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=25, ge=1, le=100)


class AttributionQuery(Command):
    """Which conversions, window, models and options to attribute with."""

    models: list[ModelName] = Field(min_length=1, max_length=8)
    since: date
    until: date
    conversion: ConversionStage = "customer"
    by: Literal["channel", "campaign"] = "channel"
    lookback_days: int = Field(default=30, ge=1, le=180)
    half_life_days: float = Field(default=7.0, gt=0, le=365)
    position_first: float = Field(default=0.4, ge=0, le=1)
    position_last: float = Field(default=0.4, ge=0, le=1)
    markov_order: int = Field(default=1, ge=1, le=3)


class VariantInput(Command):
    """An arm; ad_id required for ad experiments."""

    key: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    weight: float = Field(default=1.0, gt=0, le=100)
    description: str = Field(default="", max_length=300)
    ad_id: str | None = Field(default=None, min_length=1, max_length=200)


class CreateExperiment(Command):
    """An A/B test: the variants (the first is the control), what decides it and what must not get worse."""

    name: str = Field(min_length=1, max_length=200)
    subject: Subject
    campaign_id: CampaignId | None = None
    variants: list[VariantInput] = Field(min_length=2, max_length=6)
    primary_metric: Metric
    guardrails: list[Metric] = Field(default_factory=list, max_length=4)
    minimum_detectable_effect: float = Field(gt=0, le=10)
    relative_effect: bool = True
    baseline: float = Field(gt=0, description="The control's expected rate (or mean for revenue).")
    baseline_sd: float | None = Field(default=None, gt=0)
    units_per_day: float = Field(gt=0, le=100_000_000)
    alpha: float = Field(default=0.05, ge=0.001, le=0.2)
    power: float = Field(default=0.8, ge=0.5, le=0.99)


class AssignVariant(Command):
    """Show a contact an experiment's variant (deterministic: the same contact always gets the same one)."""

    experiment_id: ExperimentId
    contact_id: ContactId


class EndExperiment(Command):
    """Stop an experiment, keeping the decision taken."""

    experiment_id: ExperimentId
    decision: Literal["ship", "stop"]
    winner: str | None = Field(default=None, max_length=40)
    reason: str = Field(default="", max_length=500)


class RefreshPerformance(Command):
    """Re-read platform results (the given days, or what is new since the last pull)."""

    campaign_ids: list[CampaignId] | None = Field(default=None, max_length=20)
    since: date | None = None
    until: date | None = None


class PerformanceDay(Command):
    """One platform ad's results on one day, as the platform's own export gives them (campaign currency)."""

    object_id: str = Field(min_length=1, max_length=200)
    day: date
    impressions: int = Field(ge=0, le=10**12)
    clicks: int = Field(ge=0, le=10**12)
    spend: Decimal = Field(ge=0, le=Decimal("100000000"), decimal_places=2)
    conversions: float = Field(default=0.0, ge=0, le=1e12)
    conversion_value: Decimal = Field(default=Decimal(0), ge=0, le=Decimal("1000000000"), decimal_places=2)


class ImportPerformance(Command):
    """Past results of a campaign's ads (e.g. days before PromptSales read them); a day already stored is replaced."""

    campaign_id: CampaignId
    days: list[PerformanceDay] = Field(min_length=1, max_length=10_000)

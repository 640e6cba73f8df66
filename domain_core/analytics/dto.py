"""Frozen DTOs the analytics facade returns; they double as the tools' typed outputs."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from promptsales.domain_core.analytics.commands import Metric, Subject
from promptsales.domain_core.analytics.model.anomalies import Anomaly
from promptsales.domain_core.analytics.model.attribution import Disagreement, ModelResult
from promptsales.domain_core.analytics.model.experiment_stats import BayesReadout, LiftTest, SrmCheck
from promptsales.domain_core.analytics.model.metrics import Totals
from promptsales.domain_core.analytics.model.pacing import Pacing, TargetCheck
from promptsales.domain_core.analytics.model.periods import Change
from promptsales.domain_core.analytics.model.sequential import SequentialResult
from promptsales.domain_core.analytics.model.verdict import Verdict
from promptsales.domain_core.shared.dto import Dto

# ---------------------------------------------------------------------------------------------- performance


class CampaignPull(Dto):
    """What one campaign's pull read: the days, the object-days stored, and what failed."""

    campaign_id: str
    since: date
    until: date
    rows: int
    errors: list[str] = Field(default_factory=list)


class RefreshResult(Dto):
    """The campaigns whose platform results were pulled."""

    campaigns: list[CampaignPull]


class BreakdownRow(Dto):
    """One slice of the window (a channel, campaign, ad, country, day or week) with its figures."""

    key: str
    label: str
    totals: Totals
    metrics: dict[str, float | None]
    change: dict[str, Change] = Field(default_factory=dict, description="Against the previous period.")


class CampaignCheck(Dto):
    """A campaign's spend against its plan, and its KPIs against their targets."""

    campaign_id: str
    name: str
    pacing: Pacing | None
    targets: list[TargetCheck]
    forecast: str | None = None


class Freshness(Dto):
    """How current a campaign's platform figures are."""

    campaign_id: str
    last_pulled_at: datetime | None
    through_day: date | None
    errors: list[str] = Field(default_factory=list)


class InsightsView(Dto):
    """Performance over a window: totals, derived metrics, change against the previous period, a breakdown page,
    pacing and targets per campaign, anomalies in words, and how fresh the figures are."""

    since: date
    until: date
    currency: str | None
    breakdown: str
    totals: Totals
    metrics: dict[str, float | None]
    change: dict[str, Change] = Field(default_factory=dict)
    rows: list[BreakdownRow] = Field(default_factory=list)
    next_cursor: str | None = None
    campaigns: list[CampaignCheck] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)
    freshness: list[Freshness] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------- attribution


class AttributionView(Dto):
    """Credit for the window's conversions under each model, by channel or campaign."""

    since: date
    until: date
    conversion: str
    by: str
    lookback_days: int
    journeys: int
    conversions: int
    value: Decimal
    models: list[ModelResult]
    notes: list[str] = Field(default_factory=list)


class ModelComparison(Dto):
    """The models side by side, and the channels they disagree on most, explained."""

    attribution: AttributionView
    disagreements: list[Disagreement]


# ---------------------------------------------------------------------------------------------- experiments


class VariantView(Dto):
    """An arm: its key, share of units, and for ad experiments the platform ad it stands for."""

    key: str
    weight: float
    description: str = ""
    ad_id: str | None = None


class DesignView(Dto):
    """What the experiment is powered for, and the sample and days that takes."""

    minimum_detectable_effect: float
    relative_effect: bool
    baseline: float
    baseline_sd: float | None
    alpha: float
    power: float
    units_per_day: float
    needed_per_arm: int
    days_needed: int | None


class ExperimentView(Dto):
    """An experiment and where it stands."""

    id: str
    name: str
    subject: Subject
    campaign_id: str | None
    status: Literal["running", "finished"]
    variants: list[VariantView]
    primary_metric: Metric
    guardrails: list[Metric]
    design: DesignView
    started_at: datetime
    ended_at: datetime | None
    created_by: str
    decision: dict[str, str] = Field(default_factory=dict)


class ExperimentPage(Dto):
    """Experiments newest first."""

    items: list[ExperimentView]
    next_cursor: str | None = None


class ArmFigures(Dto):
    """One arm's data for a metric: units and successes (binomial) or mean and sd (continuous)."""

    variant: str
    units: int
    successes: int | None = None
    mean: float
    sd: float | None = None


class MetricReadout(Dto):
    """A metric of one variant against the control: fixed-horizon test, Bayesian readout and always-valid test."""

    metric: Metric
    variant: str
    arms: list[ArmFigures]
    lift: LiftTest
    bayes: BayesReadout
    sequential: SequentialResult
    running_p_value: float = Field(description="Lowest always-valid p-value over every look so far.")
    adjusted_p_value: float = Field(description="Benjamini-Hochberg across this experiment's comparisons.")
    significant: bool


class ExperimentResults(Dto):
    """An experiment's readout: the split check, every comparison, and the decision in plain words."""

    experiment: ExperimentView
    sample_ratio: SrmCheck | None
    primary: list[MetricReadout]
    guardrails: list[MetricReadout]
    verdict: Verdict
    notes: list[str] = Field(default_factory=list)


class AssignmentView(Dto):
    """The variant a contact sees (the same every time it is asked)."""

    experiment_id: str
    contact_id: str
    variant: str
    description: str

"""The campaign's vocabulary: goals, channels' plans, schedule, budget, bidding, targeting and forecasts (pure values).

These frozen models are what the planner produces, what compliance reads, what the database keeps as JSON and what
tools show: one shape end to end. Money is ``Decimal`` in the campaign's currency.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from promptsales.domain_core.shared.decimals import decimal_schema
from promptsales.domain_core.shared.dto import Dto

Objective = Literal["awareness", "traffic", "leads", "sales", "app_installs", "retention"]
BiddingStrategy = Literal["lowest_cost", "cost_cap", "target_cpa", "target_roas", "maximize_clicks", "manual_cpc"]
Pacing = Literal["even", "front_loaded", "accelerated"]
KpiMetric = Literal[
    "impressions", "reach", "clicks", "leads", "conversions", "revenue", "cpa", "cpl", "cpc", "ctr", "roas"
]
SpecialAdCategory = Literal["none", "housing", "employment", "credit", "social_issues"]
ProductCategory = Literal["general", "alcohol", "gambling", "tobacco", "pharma", "crypto", "dating", "weight_loss"]
Gender = Literal["female", "male"]

CountryCode = Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]
LanguageCode = Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[a-z]{2}$")]
Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("100000000"), max_digits=14, decimal_places=2),
    decimal_schema(minimum=0, maximum=100_000_000),
]


class Kpi(Dto):
    """e.g. leads at_least 300."""

    metric: KpiMetric
    target: Annotated[Decimal, Field(ge=0, le=Decimal("1000000000")), decimal_schema(minimum=0, maximum=1_000_000_000)]
    comparator: Literal["at_least", "at_most"] = "at_least"


class Market(Dto):
    """A country and its languages."""

    country: CountryCode
    languages: tuple[LanguageCode, ...] = Field(default=(), max_length=5)


class Daypart(Dto):
    """Local delivery hours; day 0=Monday, end hour exclusive."""

    days: tuple[Annotated[int, Field(ge=0, le=6)], ...] = Field(min_length=1, max_length=7)
    start_hour: Annotated[int, Field(ge=0, le=23)]
    end_hour: Annotated[int, Field(ge=1, le=24)]

    @model_validator(mode="after")
    def _ordered(self) -> "Daypart":
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


class Schedule(Dto):
    """When the campaign runs (dates inclusive, in ``time_zone``) and how spend is spread over it."""

    start_date: date
    end_date: date
    time_zone: str = Field(default="UTC", max_length=64, description="IANA, e.g. Europe/Madrid.")
    dayparting: tuple[Daypart, ...] = Field(default=(), max_length=14)
    pacing: Pacing = "even"

    @model_validator(mode="after")
    def _ordered(self) -> "Schedule":
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self

    @property
    def days(self) -> int:
        """How many days the flight lasts (both ends included)."""
        return (self.end_date - self.start_date).days + 1


class Budget(Dto):
    """Total over the flight and/or a daily ceiling, in one currency."""

    total: Money | None = None
    daily: Money | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class Bidding(Dto):
    """amount: CPA/CPC in money, or ROAS ratio (e.g. 4.0)."""

    strategy: BiddingStrategy
    amount: (
        Annotated[
            Decimal,
            Field(gt=0, le=Decimal("100000")),
            decimal_schema(minimum=0, maximum=100_000, exclusive_minimum=True),
        ]
        | None
    ) = None


class Targeting(Dto):
    """Who a channel reaches."""

    countries: tuple[CountryCode, ...] = Field(default=(), max_length=50)
    languages: tuple[LanguageCode, ...] = Field(default=(), max_length=20)
    age_min: Annotated[int, Field(ge=13, le=65)] | None = None
    age_max: Annotated[int, Field(ge=13, le=65)] | None = None
    genders: tuple[Gender, ...] = Field(default=(), max_length=2)
    interests: tuple[Annotated[str, Field(min_length=1, max_length=80)], ...] = Field(default=(), max_length=25)
    postcodes: tuple[Annotated[str, Field(min_length=1, max_length=12)], ...] = Field(default=(), max_length=100)
    customer_list_segment_id: str | None = Field(default=None, max_length=40)


class Range(Dto):
    """A forecast figure: expected value and its plausible low/high."""

    low: float
    expected: float
    high: float


class ChannelForecast(Dto):
    """What one channel's budget is expected to buy over the flight."""

    channel: str
    budget: Decimal
    impressions: Range
    clicks: Range
    conversions: Range
    cpa: Range | None = None
    roas: Range | None = None


class Forecast(Dto):
    """The plan's expected results per channel and in total, with the assumptions and sources behind them."""

    channels: tuple[ChannelForecast, ...]
    total: ChannelForecast
    assumptions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


class ChannelPlan(Dto):
    """One channel of a campaign: formats, money over the flight, bidding, targeting and creatives."""

    channel: str
    formats: tuple[str, ...] = ()
    budget: Money
    daily_budget: Money | None = None
    min_budget: Money = Decimal(0)
    max_budget: Money | None = None
    bidding: Bidding
    targeting: Targeting = Targeting()
    creative_ids: tuple[Annotated[str, Field(max_length=40)], ...] = Field(default=(), max_length=20)


class Goal(Dto):
    """A business goal in the marketer's words: what, how much, with what money, where and when."""

    objective: Objective
    target_metric: KpiMetric = "conversions"
    target_value: Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"))] | None = None
    max_cpa: Money | None = None
    budget: Money | None = None  # None: recommend one that reaches the target
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    markets: tuple[Market, ...] = Field(min_length=1, max_length=20)
    start_date: date
    end_date: date
    product: str = Field(min_length=1, max_length=500)
    industry: str | None = Field(default=None, max_length=80)
    channels: tuple[str, ...] | None = Field(default=None, max_length=12)  # restrict the mix to these
    audience_size: int | None = Field(default=None, ge=0)  # CRM segment members, when a segment is named
    pacing: Pacing = "even"
    time_zone: str = Field(default="UTC", max_length=64)


class PlanDraft(Dto):
    """The planner's answer: a complete campaign draft and the reasoning a marketer can check."""

    channels: tuple[ChannelPlan, ...]
    budget: Budget
    schedule: Schedule
    kpis: tuple[Kpi, ...]
    forecast: Forecast
    recommended_budget: bool = False
    assumptions: tuple[str, ...] = ()

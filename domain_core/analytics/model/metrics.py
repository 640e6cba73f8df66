"""Campaign totals and the derived ratios (CTR, CPL, ROAS, ...) computed from them, with how to read each one.

Money ratios (cpc, cpm, cpl, cpa, roas, platform_roas) are rounded half-up to 2 places, rates (ctr, lead_rate,
qualification_rate, close_rate) to 4; a ratio whose denominator is 0 is None (undefined), never 0 or infinity.
"""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, Field

from promptsales.domain_core.shared.dto import Dto

CENT = Decimal("0.01")
Direction = Literal["higher_is_better", "lower_is_better"]


def _cents(value: Decimal) -> Decimal:
    """The amount rounded half-up to cents."""
    # Platforms report micros and sub-cent sums; totals are kept in cents so adding them never drifts.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[Decimal, Field(ge=0), AfterValidator(_cents)]
Count = Annotated[int, Field(ge=0)]


class Totals(Dto):
    """What a campaign (or a channel, or a day) delivered: platform delivery plus the CRM outcomes it led to."""

    impressions: Count = 0
    # Unique people reached; platforms cannot add it across days or channels, so it is often unknown.
    reach: Count | None = None
    clicks: Count = 0
    spend: Money = Decimal(0)
    platform_conversions: Annotated[float, Field(ge=0)] = 0.0
    platform_value: Money = Decimal(0)
    leads: Count = 0  # CRM leads captured through the campaign's tracking links
    qualified: Count = 0  # of those, leads that reached MQL or beyond
    customers: Count = 0
    revenue: Money = Decimal(0)  # CRM deal value won

    def __add__(self, other: "Totals") -> "Totals":
        """The sum of two totals; reach is summed only when both sides know it (an upper bound on unique reach)."""
        return Totals(
            impressions=self.impressions + other.impressions,
            reach=None if self.reach is None or other.reach is None else self.reach + other.reach,
            clicks=self.clicks + other.clicks,
            spend=self.spend + other.spend,
            platform_conversions=self.platform_conversions + other.platform_conversions,
            platform_value=self.platform_value + other.platform_value,
            leads=self.leads + other.leads,
            qualified=self.qualified + other.qualified,
            customers=self.customers + other.customers,
            revenue=self.revenue + other.revenue,
        )


class MetricInfo(NamedTuple):
    """How a derived metric is computed and which way is good."""

    formula: str
    direction: Direction


METRICS: Mapping[str, MetricInfo] = MappingProxyType(
    {
        "ctr": MetricInfo("clicks / impressions", "higher_is_better"),
        "cpc": MetricInfo("spend / clicks", "lower_is_better"),
        "cpm": MetricInfo("spend / impressions * 1000", "lower_is_better"),
        "cpl": MetricInfo("spend / leads", "lower_is_better"),
        "cpa": MetricInfo("spend / customers", "lower_is_better"),
        "roas": MetricInfo("revenue / spend", "higher_is_better"),
        "platform_roas": MetricInfo("platform_value / spend", "higher_is_better"),
        "lead_rate": MetricInfo("leads / clicks", "higher_is_better"),
        "qualification_rate": MetricInfo("qualified / leads", "higher_is_better"),
        "close_rate": MetricInfo("customers / leads", "higher_is_better"),
    }
)
RATES = frozenset({"ctr", "lead_rate", "qualification_rate", "close_rate"})
COUNTS = frozenset({"impressions", "reach", "clicks", "leads", "qualified", "customers", "platform_conversions"})
_ACRONYMS = frozenset({"ctr", "cpc", "cpm", "cpl", "cpa", "roas"})


def _ratio(numerator: Decimal | int | float, denominator: Decimal | int | float, places: int) -> float | None:
    """numerator / denominator rounded half-up to ``places``; None when the denominator is 0."""
    if denominator == 0:
        return None
    exact = Decimal(str(numerator)) / Decimal(str(denominator))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def derived(t: Totals) -> dict[str, float | None]:
    """Every metric in METRICS for these totals; None where the denominator is 0."""
    return {
        "ctr": _ratio(t.clicks, t.impressions, 4),
        "cpc": _ratio(t.spend, t.clicks, 2),
        "cpm": _ratio(t.spend * 1000, t.impressions, 2),
        "cpl": _ratio(t.spend, t.leads, 2),
        "cpa": _ratio(t.spend, t.customers, 2),
        "roas": _ratio(t.revenue, t.spend, 2),
        "platform_roas": _ratio(t.platform_value, t.spend, 2),
        "lead_rate": _ratio(t.leads, t.clicks, 4),
        "qualification_rate": _ratio(t.qualified, t.leads, 4),
        "close_rate": _ratio(t.customers, t.leads, 4),
    }


def display_name(metric: str) -> str:
    """A metric's name as people write it: "CPL", "ROAS", "Lead rate", "Spend"."""
    if metric == "platform_roas":
        return "Platform ROAS"
    if metric in _ACRONYMS:
        return metric.upper()
    return metric.replace("_", " ").capitalize()


def format_value(metric: str, value: float | Decimal) -> str:
    """A value written for people: rates as percentages, counts whole, money and ratios with 2 decimals."""
    if metric in RATES:
        return f"{float(value) * 100:,.2f}%"
    if metric in COUNTS:
        return f"{float(value):,.0f}"
    return f"{float(value):,.2f}"

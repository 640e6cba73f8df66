"""What a plan's budgets are expected to buy: impressions, clicks, conversions, CPA and ROAS ranges per channel.

Expected conversions follow the channel's response curve; clicks and impressions are the curve's conversions
walked back through the benchmark rates, so every figure scales with the curve and more budget never lowers any
volume. Low/high combine the benchmark's pessimistic/optimistic cost and rate ends.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from promptsales.domain_core.campaigns.model.benchmarks import ChannelBenchmark, cost_per_conversion, effective_cpc
from promptsales.domain_core.campaigns.model.channels import get_channel
from promptsales.domain_core.campaigns.model.fx import FxRate
from promptsales.domain_core.campaigns.model.plan import ChannelForecast, ChannelPlan, Forecast, Range
from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve


def _ratio(budget: float, volume: Range) -> Range | None:
    """Cost per unit: budget / volume, the low cost coming from the high volume."""
    if volume.low <= 0:
        return None
    return Range(low=budget / volume.high, expected=budget / volume.expected, high=budget / volume.low)


def forecast_channel(
    plan: ChannelPlan,
    bench: ChannelBenchmark,
    curve: ResponseCurve,
    *,
    currency_rate: float,
    audience_size: int | None,
) -> ChannelForecast:
    """One channel's expected results for its budget (campaign currency; ``currency_rate`` units per USD)."""
    budget = float(plan.budget)
    conversions = curve.conversions(budget)
    linear = budget / (cost_per_conversion(bench) * currency_rate)
    efficiency = conversions / linear if linear > 0 else 1.0  # share of the benchmark yield left after saturation
    cpc = effective_cpc(bench)
    paid = budget * efficiency / currency_rate  # USD that buy at benchmark prices
    clicks = Range(low=paid / cpc.high, expected=paid / cpc.expected, high=paid / cpc.low)
    rate = bench.click_rate_per_message or bench.ctr
    impressions = Range(
        low=clicks.low / rate.high, expected=clicks.expected / rate.expected, high=clicks.high / rate.low
    )
    results = Range(low=clicks.low * bench.cvr.low, expected=conversions, high=clicks.high * bench.cvr.high)
    if audience_size is not None and get_channel(plan.channel).consent_channel is not None:
        # An owned channel cannot send more than its audience can receive: the curve's ceiling, built on that audience.
        most_messages = curve.vmax / (rate.expected * bench.cvr.expected)
        impressions = _capped(impressions, most_messages)
        clicks = _capped(clicks, most_messages * rate.high)
        results = _capped(results, curve.vmax)
    return ChannelForecast(
        channel=plan.channel,
        budget=plan.budget,
        impressions=impressions,
        clicks=clicks,
        conversions=results,
        cpa=_ratio(budget, results),
    )


def _capped(figure: Range, most: float) -> Range:
    return Range(low=min(figure.low, most), expected=min(figure.expected, most), high=min(figure.high, most))


def _sum(ranges: Sequence[Range]) -> Range:
    return Range(
        low=sum(r.low for r in ranges), expected=sum(r.expected for r in ranges), high=sum(r.high for r in ranges)
    )


def _with_roas(item: ChannelForecast, value: Decimal | None) -> ChannelForecast:
    if value is None or item.budget <= 0:
        return item
    per = float(value) / float(item.budget)
    c = item.conversions
    return item.model_copy(update={"roas": Range(low=c.low * per, expected=c.expected * per, high=c.high * per)})


def forecast(
    plans: Sequence[ChannelPlan],
    benchmarks: Mapping[str, ChannelBenchmark],
    curves: Mapping[str, ResponseCurve],
    *,
    fx: FxRate,
    audience_size: int | None = None,
    value_per_conversion: Decimal | None = None,
) -> Forecast:
    """Every channel's forecast, their total, and the sources, rates and curves behind them."""
    items = [
        _with_roas(
            forecast_channel(
                plan,
                benchmarks[plan.channel],
                curves[plan.channel],
                currency_rate=fx.per_usd,
                audience_size=audience_size,
            ),
            value_per_conversion,
        )
        for plan in plans
    ]
    budget = sum((plan.budget for plan in plans), Decimal(0))
    total = _with_roas(
        ChannelForecast(
            channel="total",
            budget=budget,
            impressions=_sum([i.impressions for i in items]),
            clicks=_sum([i.clicks for i in items]),
            conversions=_sum([i.conversions for i in items]),
            cpa=_ratio(float(budget), _sum([i.conversions for i in items])),
        ),
        value_per_conversion,
    )
    assumptions = [
        f"{plan.channel}: {benchmarks[plan.channel].industry} benchmark, strength {benchmarks[plan.channel].strength}, "
        f"data {benchmarks[plan.channel].data_window}."
        for plan in plans
    ]
    assumptions.append(fx.describe())
    assumptions.extend(f"{curves[plan.channel].basis}." for plan in plans)
    assumptions.append("Total low/high add every channel's low/high ends: both extremes at once, a wide band.")
    if value_per_conversion is None:
        assumptions.append("No value per conversion was given, so ROAS is not forecast.")
    sources = tuple(dict.fromkeys(benchmarks[plan.channel].source for plan in plans))
    return Forecast(channels=tuple(items), total=total, assumptions=tuple(assumptions), sources=sources)

"""Forecasts: ranges ordered, more budget never lowers a volume, CPA from the conversions range, ROAS on request."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model.benchmarks import benchmark
from promptsales.domain_core.campaigns.model.forecast import forecast, forecast_channel
from promptsales.domain_core.campaigns.model.fx import usd_rate
from promptsales.domain_core.campaigns.model.plan import Bidding, ChannelPlan, Range
from promptsales.domain_core.campaigns.model.response_curves import curve_from_benchmark

CHANNELS = ("google_search", "linkedin", "meta_facebook", "tiktok", "email", "sms", "whatsapp")
EUR = usd_rate("EUR")


def plan(channel: str, budget: Decimal) -> ChannelPlan:
    return ChannelPlan(channel=channel, budget=budget, bidding=Bidding(strategy="lowest_cost"))


def ordered(figure: Range) -> bool:
    return 0 <= figure.low <= figure.expected <= figure.high


@settings(max_examples=80, deadline=None)
@given(
    channel=st.sampled_from(CHANNELS),
    budget=st.decimals(min_value=1, max_value=500_000, places=2),
    extra=st.decimals(min_value=Decimal("0.01"), max_value=500_000, places=2),
    audience=st.none() | st.integers(min_value=100, max_value=2_000_000),
)
def test_more_budget_never_lowers_a_forecast_figure(
    channel: str, budget: Decimal, extra: Decimal, audience: int | None
) -> None:
    bench = benchmark(channel, "technology")
    curve = curve_from_benchmark(bench, flight_days=31, audience_cap=audience, currency_rate=EUR.per_usd)
    small, large = (
        forecast_channel(plan(channel, b), bench, curve, currency_rate=EUR.per_usd, audience_size=audience)
        for b in (budget, budget + extra)
    )
    for name in ("impressions", "clicks", "conversions"):
        before, after = getattr(small, name), getattr(large, name)
        assert ordered(before) and ordered(after)
        assert after.low >= before.low and after.expected >= before.expected and after.high >= before.high


def test_cpa_is_the_budget_over_the_conversions_range() -> None:
    bench = benchmark("google_search")
    curve = curve_from_benchmark(bench, flight_days=30, audience_cap=None, currency_rate=1.0)
    result = forecast_channel(
        plan("google_search", Decimal("10000")), bench, curve, currency_rate=1.0, audience_size=None
    )
    assert result.cpa is not None
    assert result.cpa.expected == pytest.approx(10_000 / result.conversions.expected)
    assert result.cpa.low == pytest.approx(10_000 / result.conversions.high)
    # Near-linear at this spend: about the benchmark's $66 per conversion.
    assert 60 < result.cpa.expected < 75


def test_the_total_adds_channels_and_the_assumptions_name_sources_rates_and_curves() -> None:
    plans = [plan("google_search", Decimal("6000")), plan("meta_facebook", Decimal("4000"))]
    benches = {p.channel: benchmark(p.channel) for p in plans}
    curves = {
        c: curve_from_benchmark(b, flight_days=31, audience_cap=None, currency_rate=EUR.per_usd)
        for c, b in benches.items()
    }
    result = forecast(plans, benches, curves, fx=EUR, value_per_conversion=Decimal("120"))
    assert result.total.budget == Decimal("10000")
    assert result.total.conversions.expected == pytest.approx(sum(c.conversions.expected for c in result.channels))
    assert result.total.roas is not None
    assert result.total.roas.expected == pytest.approx(result.total.conversions.expected * 120 / 10_000)
    text = " ".join(result.assumptions)
    assert "strength B" in text and "strength C" in text
    assert "1 USD = 0.86 EUR" in text and "2026-11-27" in text
    assert "Hill curve" in text
    assert any("wordstream.com" in source for source in result.sources)


def test_roas_is_left_out_without_a_value_per_conversion() -> None:
    bench = benchmark("email")
    curve = curve_from_benchmark(bench, flight_days=31, audience_cap=5_000, currency_rate=1.0)
    result = forecast([plan("email", Decimal("50"))], {"email": bench}, {"email": curve}, fx=usd_rate("USD"))
    assert result.total.roas is None
    assert any("ROAS is not forecast" in line for line in result.assumptions)

"""The shared ad delivery model: deterministic, bounded by the budget, monotonic in it, silent when paused."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_report,
    from_minor_units,
    to_minor_units,
)
from promptsales.domain_core.integrations.model.ad_performance import (
    GOOGLE_SEARCH,
    LINKEDIN_SPONSORED_CONTENT,
    META_FEED,
    TIKTOK_IN_FEED,
    ZERO,
    Benchmark,
    CreativeSignal,
    DeliveryInput,
    ServingAd,
    StatusTimeline,
    audience_size,
    campaign_day,
    serving_fraction,
    simulate_day,
)
from promptsales.domain_core.shared.errors import ValidationFailed

DAY = date(2026, 12, 3)
CREATIVE = CreativeSignal.of(["Fast shoes", "Run further today", "Free returns"], ["Light.", "Tough."], has_image=True)
BENCHMARKS = [GOOGLE_SEARCH, META_FEED, TIKTOK_IN_FEED, LINKEDIN_SPONSORED_CONTENT]


def day_of(budget: str, *, bid: str | None = None, fraction: float = 1.0, object_id: str = "ad-1") -> DeliveryInput:
    return DeliveryInput(
        object_id=object_id,
        day=DAY,
        daily_budget=Decimal(budget),
        bid=Decimal(bid) if bid is not None else None,
        audience_size=audience_size(["US"], 25, 54, ["running"]),
        creative=CREATIVE,
        serving_fraction=fraction,
    )


@pytest.mark.parametrize("benchmark", BENCHMARKS, ids=lambda b: b.platform)
def test_a_day_is_deterministic_and_near_the_benchmark(benchmark: Benchmark) -> None:
    first = simulate_day(day_of("100.00"), benchmark)
    assert first == simulate_day(day_of("100.00"), benchmark)
    assert first.clicks > 0 and first.impressions > first.clicks
    # ±15 % variation and the creative's 0.7-1.3 quality keep the day near the published averages.
    assert float(first.spend) / first.clicks == pytest.approx(float(benchmark.cpc), rel=0.2)
    assert first.clicks / first.impressions == pytest.approx(benchmark.ctr, rel=0.5)
    assert first.conversions == pytest.approx(first.clicks * benchmark.cvr, rel=0.2, abs=0.05)


def test_days_and_objects_vary_but_stay_fixed_per_pair() -> None:
    results = {simulate_day(day_of("80.00", object_id=f"ad-{i}"), GOOGLE_SEARCH).clicks for i in range(10)}
    assert len(results) > 1
    tomorrow = DeliveryInput("ad-1", DAY + timedelta(days=1), Decimal("80.00"), None, 10**6, CREATIVE)
    today = DeliveryInput("ad-1", DAY, Decimal("80.00"), None, 10**6, CREATIVE)
    assert simulate_day(today, GOOGLE_SEARCH) != simulate_day(tomorrow, GOOGLE_SEARCH)


@given(
    low=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
    extra=st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2),
    bid=st.one_of(st.none(), st.decimals(min_value=Decimal("0.05"), max_value=Decimal("20"), places=2)),
    benchmark=st.sampled_from(BENCHMARKS),
)
def test_more_budget_never_gives_less_and_spend_never_exceeds_the_budget(
    low: Decimal, extra: Decimal, bid: Decimal | None, benchmark: Benchmark
) -> None:
    small = simulate_day(day_of(str(low), bid=None if bid is None else str(bid)), benchmark)
    large = simulate_day(day_of(str(low + extra), bid=None if bid is None else str(bid)), benchmark)
    assert small.spend <= low and large.spend <= low + extra
    assert small.impressions <= large.impressions
    assert small.clicks <= large.clicks
    assert small.spend <= large.spend
    assert small.conversions <= large.conversions
    assert small.conversion_value <= large.conversion_value


def test_the_audience_caps_delivery_whatever_the_budget() -> None:
    tiny = DeliveryInput("ad-1", DAY, Decimal("10000"), None, 1_000, CREATIVE)
    result = simulate_day(tiny, GOOGLE_SEARCH)
    assert result.impressions <= 1_000 * 0.02 + 1
    assert result.spend < Decimal("10000")


def test_a_low_bid_pays_less_per_click_and_wins_less() -> None:
    automatic = simulate_day(day_of("10000"), GOOGLE_SEARCH)
    capped = simulate_day(day_of("10000", bid="1.00"), GOOGLE_SEARCH)
    assert float(capped.spend) / capped.clicks <= 1.00
    assert capped.clicks < automatic.clicks


def test_nothing_happens_when_paused_or_without_budget_or_audience() -> None:
    assert simulate_day(day_of("100", fraction=0.0), META_FEED) == ZERO
    assert simulate_day(day_of("0"), META_FEED) == ZERO
    assert simulate_day(DeliveryInput("a", DAY, Decimal(50), None, 0, CREATIVE), META_FEED) == ZERO
    half = simulate_day(day_of("100", fraction=0.5), META_FEED)
    assert Decimal(0) < half.spend <= Decimal("50.00")


def test_a_campaign_budget_is_shared_by_its_serving_ads() -> None:
    ads = [
        ServingAd("a", 1.0, None, 10**7, CREATIVE),
        ServingAd("b", 0.5, None, 10**7, CREATIVE),
        ServingAd("c", 0.0, None, 10**7, CREATIVE),
    ]
    results = campaign_day(DAY, Decimal("90.00"), ads, TIKTOK_IN_FEED)
    assert set(results) == {"a", "b"}
    assert sum((r.spend for r in results.values()), Decimal(0)) <= Decimal("90.00")
    assert results["a"].spend <= Decimal("45.00") and results["b"].spend <= Decimal("22.50")


def test_audience_size_follows_countries_ages_and_interests() -> None:
    assert audience_size([], None, None, []) == 200_000_000
    assert audience_size(["US", "us", "GB"], None, None, []) == 10_000_000
    assert audience_size(["US"], 18, 41, []) == 2_500_000
    assert audience_size(["US"], 50, 30, []) == 0
    assert audience_size(["US"], None, None, ["a"]) < audience_size(["US"], None, None, ["a", "b"])


def test_creative_quality_rewards_variants_and_an_image() -> None:
    bare = CreativeSignal.of(["Hi"], [], has_image=False)
    rich = CreativeSignal.of([f"Headline number {i:02d}" for i in range(10)], ["x", "y"], has_image=True)
    assert 0.7 <= bare.quality() < rich.quality() <= 1.3


def test_serving_fraction_counts_only_hours_when_every_level_was_on() -> None:
    start = datetime(2026, 12, 3, tzinfo=UTC)
    campaign = StatusTimeline().changed(start + timedelta(hours=6), True)
    ad = StatusTimeline().changed(start, True).changed(start + timedelta(hours=18), False)
    now = start + timedelta(days=3)
    assert serving_fraction([campaign, ad], DAY, "UTC", now) == pytest.approx(0.5)
    assert serving_fraction([campaign, ad], DAY - timedelta(days=1), "UTC", now) == 0.0
    # Today counts only up to now; the future never serves.
    assert serving_fraction([campaign], DAY, "UTC", start + timedelta(hours=12)) == pytest.approx(0.25)
    assert serving_fraction([campaign], DAY + timedelta(days=5), "UTC", now) == 0.0
    # The account's time zone decides where a day starts.
    assert serving_fraction([campaign], DAY, "America/New_York", now) == pytest.approx(23 / 24)
    with pytest.raises(ValueError, match="precede"):
        campaign.changed(start, False)


def test_money_checks_refuse_sign_ceiling_and_precision() -> None:
    limits = AdLimits()
    assert check_amount(Decimal("25.50"), field="daily_budget", maximum=limits.max_daily_budget) == Decimal("25.50")
    for bad, words in [
        (Decimal("-1"), "greater than zero"),
        (Decimal("0"), "greater than zero"),
        (Decimal("50000.01"), "ceiling"),
        (Decimal("1.005"), "decimals"),
        (Decimal("NaN"), "finite"),
        (1.5, "decimal amount"),
    ]:
        with pytest.raises(ValidationFailed, match=words) as caught:
            check_amount(bad, field="daily_budget", maximum=limits.max_daily_budget)
        assert caught.value.field == "daily_budget"
    with pytest.raises(ValidationFailed, match="decimals"):
        check_amount(Decimal("100.50"), field="bid", maximum=limits.max_bid, currency="JPY")


def test_minor_units_follow_the_currency_exponent() -> None:
    assert to_minor_units(Decimal("50.00"), "USD") == 5000
    assert to_minor_units(Decimal("5000"), "JPY") == 5000
    assert from_minor_units("1999", "EUR") == Decimal("19.99")
    with pytest.raises(ValueError, match="decimals"):
        to_minor_units(Decimal("0.001"), "USD")


def test_report_windows_are_bounded() -> None:
    assert check_report(["1", "2", "1"], DAY, DAY) == ("1", "2")
    for ids, since, until, field in [
        ([], DAY, DAY, "object_ids"),
        ([str(i) for i in range(101)], DAY, DAY, "object_ids"),
        (["a b"], DAY, DAY, "object_ids"),
        (["1"], DAY, DAY - timedelta(days=1), "until"),
        (["1"], DAY, DAY + timedelta(days=93), "until"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            check_report(ids, since, until)
        assert caught.value.field == field

"""Insight arithmetic: derived metrics, periods, pacing, targets and anomalies, against hand-computed values."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pydantic
import pytest
from statsmodels.robust.scale import mad as statsmodels_mad

from promptsales.domain_core.analytics.model.anomalies import find_anomalies
from promptsales.domain_core.analytics.model.metrics import METRICS, Totals, derived
from promptsales.domain_core.analytics.model.pacing import against_target, pace
from promptsales.domain_core.analytics.model.periods import bucket, change, previous_period, validate_window
from promptsales.domain_core.shared.errors import ValidationFailed

# ---------------------------------------------------------------- metrics


def test_derived_metrics_hand_computed() -> None:
    t = Totals(
        impressions=12_000,
        clicks=240,
        spend=Decimal("600.00"),
        platform_value=Decimal("1800"),
        leads=30,
        qualified=12,
        customers=3,
        revenue=Decimal("4500"),
    )
    assert derived(t) == {
        "ctr": 0.02,
        "cpc": 2.5,
        "cpm": 50.0,
        "cpl": 20.0,
        "cpa": 200.0,
        "roas": 7.5,
        "platform_roas": 3.0,
        "lead_rate": 0.125,
        "qualification_rate": 0.4,
        "close_rate": 0.1,
    }
    assert set(derived(t)) == set(METRICS)


def test_derived_rounds_half_up_and_rates_to_four_places() -> None:
    # 0.25 / 2 = 0.125: half-up gives 0.13 where float round() would give 0.12.
    t = Totals(impressions=7, clicks=3, spend=Decimal("0.25"), leads=2)
    values = derived(t)
    assert values["ctr"] == 0.4286
    assert values["cpl"] == 0.13
    assert values["cpc"] == 0.08  # 0.0833...


def test_zero_denominators_are_none() -> None:
    assert all(value is None for value in derived(Totals()).values())
    only_spend = derived(Totals(spend=Decimal(10)))
    assert only_spend["roas"] == 0.0 and only_spend["cpc"] is None


def test_totals_add_and_reach_rule() -> None:
    a = Totals(impressions=10, reach=8, clicks=1, spend=Decimal("1.10"), leads=1, revenue=Decimal("5"))
    b = Totals(impressions=5, reach=4, clicks=2, spend=Decimal("2.25"), customers=1)
    total = a + b
    assert (total.impressions, total.reach, total.clicks, total.spend) == (15, 12, 3, Decimal("3.35"))
    assert (total.leads, total.customers, total.revenue) == (1, 1, Decimal("5"))
    assert (a + Totals(impressions=1)).reach is None


def test_totals_money_in_cents_and_no_negatives() -> None:
    assert Totals(spend=Decimal("1.005")).spend == Decimal("1.01")
    with pytest.raises(pydantic.ValidationError):
        Totals(clicks=-1)


# ---------------------------------------------------------------- periods


def test_previous_period() -> None:
    assert previous_period(date(2024, 3, 10), date(2024, 3, 16)) == (date(2024, 3, 3), date(2024, 3, 9))
    assert previous_period(date(2024, 3, 1), date(2024, 3, 1)) == (date(2024, 2, 29), date(2024, 2, 29))
    # 31 days ending on the leap day.
    assert previous_period(date(2024, 3, 1), date(2024, 3, 31)) == (date(2024, 1, 30), date(2024, 2, 29))
    with pytest.raises(ValidationFailed) as err:
        previous_period(date(2024, 3, 2), date(2024, 3, 1))
    assert err.value.field == "since"


def test_bucket() -> None:
    assert bucket(date(2024, 3, 14), "week") == date(2024, 3, 11)  # Thursday
    assert bucket(date(2024, 3, 17), "week") == date(2024, 3, 11)  # Sunday ends the ISO week
    assert bucket(date(2024, 3, 11), "week") == date(2024, 3, 11)
    assert bucket(date(2025, 1, 1), "week") == date(2024, 12, 30)
    assert bucket(date(2024, 3, 14), "day") == date(2024, 3, 14)


def test_validate_window() -> None:
    validate_window(date(2024, 1, 1), date(2024, 12, 31))  # 366 days in a leap year
    with pytest.raises(ValidationFailed) as err:
        validate_window(date(2024, 1, 1), date(2025, 1, 1))
    assert err.value.field == "until" and "367 days" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        validate_window(date(2024, 1, 2), date(2024, 1, 1))
    assert err.value.field == "since"
    with pytest.raises(ValidationFailed):
        validate_window(date(2024, 1, 1), date(2024, 1, 8), max_days=7)


def test_change() -> None:
    c = change(120.0, 100.0)
    assert (c.absolute, c.relative) == (20.0, 0.2)
    assert change(0.0321, 0.03).absolute == 0.0021
    assert change(80.0, 100.0).relative == -0.2
    zero = change(5.0, 0.0)
    assert (zero.absolute, zero.relative) == (5.0, None)
    unknown = change(None, 3.0)
    assert (unknown.absolute, unknown.relative, unknown.previous) == (None, None, 3.0)


# ---------------------------------------------------------------- pacing

APRIL = {"planned_total": Decimal("3000"), "flight_start": date(2024, 4, 1), "flight_end": date(2024, 4, 30)}


@pytest.mark.parametrize(
    ("spent", "status", "ratio"),
    [
        ("1000", "on_track", 1.0),
        ("900", "on_track", 0.9),
        ("1100", "on_track", 1.1),
        ("850", "underspending", 0.85),
        ("1150.50", "overspending", 1.1505),
    ],
)
def test_pace_even_plan(spent: str, status: str, ratio: float) -> None:
    # Day 10 of 30 of a 3,000 flight: 1,000 expected.
    result = pace(**APRIL, planned_daily=None, spent_to_date=Decimal(spent), today=date(2024, 4, 10))
    assert result.expected_to_date == Decimal("1000.00")
    assert (result.status, result.ratio) == (status, ratio)
    assert "Day 10 of 30" in result.explanation and "1,000.00 expected" in result.explanation


def test_pace_not_started_and_finished() -> None:
    early = pace(**APRIL, planned_daily=None, spent_to_date=Decimal(0), today=date(2024, 3, 31))
    assert (early.status, early.ratio, early.expected_to_date) == ("not_started", None, Decimal(0))
    assert "1 April 2024" in early.explanation
    done = pace(**APRIL, planned_daily=None, spent_to_date=Decimal("2950"), today=date(2024, 5, 2))
    assert (done.status, done.expected_to_date, done.ratio) == ("finished", Decimal("3000.00"), 0.9833)
    assert "30 April 2024" in done.explanation and "2,950.00" in done.explanation
    last_day = pace(**APRIL, planned_daily=None, spent_to_date=Decimal("3000"), today=date(2024, 4, 30))
    assert last_day.status == "on_track"


def test_pace_planned_daily_overrides_even_spread() -> None:
    front = [(date(2024, 4, 1), Decimal(200)), (date(2024, 4, 2), Decimal(100)), (date(2024, 4, 3), Decimal(50))]
    args = {"planned_total": Decimal(350), "flight_start": date(2024, 4, 1), "flight_end": date(2024, 4, 3)}
    front_loaded = pace(**args, planned_daily=front, spent_to_date=Decimal(200), today=date(2024, 4, 1))
    assert (front_loaded.expected_to_date, front_loaded.status) == (Decimal(200), "on_track")
    even = pace(**args, planned_daily=None, spent_to_date=Decimal(200), today=date(2024, 4, 1))
    assert (even.expected_to_date, even.status) == (Decimal("116.67"), "overspending")
    # Nothing planned for the first day yet money went out: ahead of plan, with no ratio to show.
    late = [(date(2024, 4, 2), Decimal(350))]
    ahead = pace(**args, planned_daily=late, spent_to_date=Decimal(5), today=date(2024, 4, 1))
    assert (ahead.ratio, ahead.status) == (None, "overspending")


def test_pace_validation() -> None:
    with pytest.raises(ValidationFailed) as err:
        pace(
            planned_total=Decimal(1),
            flight_start=date(2024, 4, 2),
            flight_end=date(2024, 4, 1),
            planned_daily=None,
            spent_to_date=Decimal(0),
            today=date(2024, 4, 1),
        )
    assert err.value.field == "flight_end"
    with pytest.raises(ValidationFailed) as err:
        pace(**APRIL, planned_daily=None, spent_to_date=Decimal(-1), today=date(2024, 4, 1))
    assert err.value.field == "spent_to_date"


def test_against_target() -> None:
    missed = against_target("cpl", 42.10, 35.0, higher_is_better=False)
    assert (missed.met, missed.gap_relative) == (False, 0.2029)  # 7.10 / 35
    assert "CPL is 42.10 against a target of 35.00" in missed.explanation
    assert "20.3% worse" in missed.explanation and "target missed" in missed.explanation
    met = against_target("roas", 3.2, 3.0, higher_is_better=True)
    assert (met.met, met.gap_relative) == (True, 0.0667)
    assert "6.7% better" in met.explanation and "target met" in met.explanation
    rate = against_target("ctr", 0.012, 0.015, higher_is_better=True)
    assert rate.met is False and "1.20%" in rate.explanation and "1.50%" in rate.explanation
    assert against_target("cpl", 10.0, 10.0, higher_is_better=False).met is True
    assert against_target("cpa", 5.0, 0.0, higher_is_better=False).gap_relative is None
    unknown = against_target("cpl", None, 35.0, higher_is_better=False)
    assert (unknown.met, unknown.gap_relative) == (None, None)
    assert against_target("cpl", 4.0, None, higher_is_better=False).met is None


# ---------------------------------------------------------------- anomalies

START = date(2024, 2, 19)
BASE = [310, 350, 420, 360, 330, 390, 400, 340, 370, 355, 380, 365, 345, 375]  # 14 days, range 310-420


def _series(values: list[float]) -> list[tuple[date, float]]:
    return [(START + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def test_spike_detected_with_plain_words() -> None:
    found = find_anomalies(_series([*BASE, *BASE[:8], 1240]), metric="spend", label="Facebook")
    assert len(found) == 1
    spike = found[0]
    assert (spike.day, spike.direction, spike.value, spike.low, spike.high) == (
        date(2024, 3, 12),
        "spike",
        1240.0,
        310.0,
        420.0,
    )
    assert spike.explanation == (
        "Spend on Facebook on 12 March 2024 (1,240.00) was far above its recent range "
        "(310.00\u2013420.00 over the previous 14 days)."
    )
    # Independent check of the score: statsmodels' MAD is already divided by 0.6745.
    history = np.array([*BASE[8:], *BASE[:8]], dtype=float)
    assert spike.expected == float(np.median(history))
    assert spike.score == pytest.approx((1240 - np.median(history)) / statsmodels_mad(history), abs=0.01)


def test_drop_detected_with_plain_words() -> None:
    clicks = [100, 96, 104, 99, 101, 95, 103, 98, 102, 97, 100, 5]
    found = find_anomalies(_series(clicks), metric="clicks", label="Google Ads")
    assert [a.direction for a in found] == ["drop"]
    assert found[0].explanation == (
        "Clicks on Google Ads on 1 March 2024 (5) was far below its recent range "
        "(95\u2013104 over the previous 11 days)."
    )


def test_steady_noisy_series_has_no_anomalies() -> None:
    rng = np.random.default_rng(20240301)
    noisy = list(400 + rng.normal(0, 25, 90))
    assert find_anomalies(_series(noisy), metric="spend", label="Meta") == []
    # The same noise plus one 3x day: only that day is reported.
    noisy[60] = 1200.0
    assert [a.day for a in find_anomalies(_series(noisy), metric="spend", label="Meta")] == [START + timedelta(days=60)]


def test_too_short_history_has_no_anomalies() -> None:
    assert (
        find_anomalies(_series([100, 101, 99, 100, 102, 98, 100, 5000]), metric="spend", label="x", min_history=8) == []
    )
    assert find_anomalies(_series([100, 101, 99, 5000]), metric="spend", label="x") == []
    assert find_anomalies([], metric="spend", label="x") == []


def test_zero_mad_falls_back_to_mean_absolute_deviation() -> None:
    history = [100] * 10 + [90, 110, 95, 105]  # MAD 0; mean absolute deviation 30 / 14
    found = find_anomalies(_series([*history, 130]), metric="spend", label="TikTok")
    assert len(found) == 1
    assert found[0].score == pytest.approx(30 / (1.253314 * 30 / 14), abs=0.01)  # 11.17
    # Without the 25 % floor a 10 % move after a mostly flat history already scores 8.8.
    sensitive = find_anomalies(_series([*history, 130]), metric="spend", label="TikTok", min_change=0)
    assert [a.value for a in sensitive] == [110.0, 130.0]
    assert sensitive[0].score == pytest.approx(10 / (1.253314 * 10 / 11), abs=0.01)
    # A perfectly flat history gives no scale: the step is left to pacing.
    assert find_anomalies(_series([100] * 14 + [500]), metric="spend", label="TikTok") == []


def test_earlier_spike_does_not_hide_a_later_one_and_nan_is_skipped() -> None:
    values: list[float] = [*BASE, 2000, *BASE[:6], float("nan"), 1900]
    found = find_anomalies(_series(values), metric="spend", label="Facebook")
    assert [a.value for a in found] == [2000.0, 1900.0]
    # The second spike sits inside a range stretched by the first one: compared with the usual level instead.
    assert "far above its usual level of" in found[1].explanation


def test_anomaly_parameters_validated() -> None:
    with pytest.raises(ValidationFailed) as err:
        find_anomalies(_series(BASE), metric="spend", label="x", window=10, min_history=11)
    assert err.value.field == "min_history"
    with pytest.raises(ValidationFailed) as err:
        find_anomalies(_series(BASE), metric="spend", label="x", threshold=0)
    assert err.value.field == "threshold"
    with pytest.raises(ValidationFailed) as err:
        find_anomalies(_series(BASE), metric="spend", label="x", min_change=-1)
    assert err.value.field == "min_change"

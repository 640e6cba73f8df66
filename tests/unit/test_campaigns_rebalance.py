"""Splitting a live campaign's daily budget by its channels' own history (pure)."""

from decimal import Decimal

import pytest

from promptsales.domain_core.campaigns.model.rebalance import daily_curve, rebalance


def hill_days(vmax: float, half: float, spends: list[float]) -> list[tuple[float, float]]:
    return [(s, vmax * s / (half + s)) for s in spends]


def test_a_channel_with_enough_days_gets_a_curve_fitted_to_them_and_others_their_benchmark() -> None:
    days = hill_days(40.0, 300.0, [50, 80, 120, 160, 200, 260, 320, 400, 90, 150])
    fitted = daily_curve("google_search", days, industry="software", currency="EUR")
    assert "fitted to 10 days" in fitted.basis
    assert fitted.conversions(300) == pytest.approx(20.0, rel=0.05)
    fresh = daily_curve("meta_facebook", [(100.0, 3.0)], industry="software", currency="EUR")
    assert "benchmark" in fresh.basis and "1 days" in fresh.basis


def test_the_channel_that_converts_better_on_its_own_data_gets_more_of_the_budget() -> None:
    history = {
        # Search converts three times as well as the benchmark would say; Meta has too little history.
        "google_search": hill_days(60.0, 200.0, [40, 60, 90, 120, 150, 180, 220, 260]),
        "meta_facebook": [(50.0, 1.0), (55.0, 1.0)],
    }
    minimums = {"google_search": Decimal(5), "meta_facebook": Decimal(5)}
    split = rebalance(Decimal(400), history, minimums, industry="software", currency="EUR")
    assert sum(split.budgets.values()) == Decimal(400)
    assert all(split.budgets[c] >= minimums[c] for c in minimums)
    assert split.budgets["google_search"] > split.budgets["meta_facebook"]
    assert "fitted" in split.basis["google_search"] and "benchmark" in split.basis["meta_facebook"]

"""Response curves: shape, slope at zero matching the benchmark, and fitting a campaign's own history."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model.benchmarks import benchmark, cost_per_conversion
from promptsales.domain_core.campaigns.model.response_curves import ResponseCurve, curve_from_benchmark, fit_curve
from promptsales.domain_core.shared.errors import ValidationFailed


@given(
    kind=st.sampled_from(["hill", "log"]),
    spend=st.floats(min_value=0.0, max_value=1e6),
    extra=st.floats(min_value=0.01, max_value=1e5),
)
def test_curves_rise_and_flatten(kind: str, spend: float, extra: float) -> None:
    curve = ResponseCurve(kind=kind, vmax=500.0, half=20_000.0)  # type: ignore[arg-type]
    assert curve.conversions(spend + extra) >= curve.conversions(spend)
    assert curve.marginal(spend + extra) <= curve.marginal(spend)


@pytest.mark.parametrize("kind", ["hill", "log"])
def test_marginal_is_the_derivative(kind: str) -> None:
    curve = ResponseCurve(kind=kind, vmax=300.0, half=5_000.0, shape=1.0 if kind == "log" else 1.7)  # type: ignore[arg-type]
    for spend in (10.0, 2_000.0, 50_000.0):
        step = spend * 1e-6
        numeric = (curve.conversions(spend + step) - curve.conversions(spend - step)) / (2 * step)
        assert curve.marginal(spend) == pytest.approx(numeric, rel=1e-5)


def test_a_benchmark_curve_starts_at_the_benchmark_cost_per_conversion_in_the_campaign_currency() -> None:
    bench = benchmark("google_search")
    curve = curve_from_benchmark(bench, flight_days=30, audience_cap=None, currency_rate=0.86)
    assert curve.marginal(0.0) == pytest.approx(1 / (cost_per_conversion(bench) * 0.86))
    # A smaller audience saturates sooner: the same spend buys fewer conversions.
    narrow = curve_from_benchmark(bench, flight_days=30, audience_cap=20_000, currency_rate=0.86)
    assert narrow.conversions(10_000) < curve.conversions(10_000)
    assert "default reach" in curve.basis and "20,000 people" in narrow.basis


def test_fit_curve_recovers_known_parameters() -> None:
    truth = ResponseCurve(vmax=80.0, half=150.0, shape=1.6)
    rng = np.random.default_rng(7)
    spends = rng.uniform(10, 600, 40)
    history = [(s, truth.conversions(s) * (1 + rng.normal(0, 0.01))) for s in spends]
    fitted = fit_curve(history)
    assert fitted.vmax == pytest.approx(80.0, rel=0.05)
    assert fitted.half == pytest.approx(150.0, rel=0.05)
    assert fitted.shape == pytest.approx(1.6, rel=0.05)


def test_fit_curve_refuses_too_little_history() -> None:
    with pytest.raises(ValidationFailed) as refused:
        fit_curve([(100.0, 3.0), (100.0, 4.0), (120.0, 5.0), (100.0, 2.0), (120.0, 3.0)])
    assert refused.value.field == "history"

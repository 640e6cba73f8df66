"""Always-valid mSPRT: the formula against numerical integration, and an A/A peeking simulation."""

import math
import time

import numpy as np
import pytest
from scipy import integrate, stats

from promptsales.domain_core.analytics.model.experiment_stats import BinomialArm, ContinuousArm
from promptsales.domain_core.analytics.model.sequential import (
    DEFAULT_RELATIVE_TAU,
    binomial_p_values,
    mixture_p_values,
    msprt_binomial,
    msprt_means,
    running_p,
)
from promptsales.domain_core.shared.errors import ValidationFailed


def _mixture_ratio(difference: float, variance: float, tau: float, theta0: float = 0.0) -> float:
    """Lambda by definition: the normal likelihood ratio averaged over theta ~ N(theta0, tau²), by quadrature."""
    sd = math.sqrt(variance)

    def integrand(theta: float) -> float:
        ratio = stats.norm.pdf(difference, theta, sd) / stats.norm.pdf(difference, theta0, sd)
        return float(ratio * stats.norm.pdf(theta, theta0, tau))

    return integrate.quad(integrand, theta0 - 12 * tau, theta0 + 12 * tau, limit=200)[0]


@pytest.mark.parametrize(("difference", "variance", "tau"), [(0.01, 2e-5, 0.01), (-0.3, 0.04, 0.5), (0.0, 1e-4, 0.02)])
def test_mixture_p_value_matches_the_definition(difference: float, variance: float, tau: float) -> None:
    p = float(mixture_p_values(np.array([difference]), np.array([variance]), tau)[0])
    assert p == pytest.approx(min(1.0, 1 / _mixture_ratio(difference, variance, tau)), rel=1e-6)


def test_confidence_sequence_edges_sit_where_lambda_hits_one_over_alpha() -> None:
    control, variant = BinomialArm(successes=400, trials=4000), BinomialArm(successes=470, trials=4000)
    result = msprt_binomial(control, variant, alpha=0.05, tau=0.01)
    variance = 0.1 * 0.9 / 4000 + 0.1175 * 0.8825 / 4000
    for edge in result.ci:
        assert _mixture_ratio(0.0175, variance, 0.01, theta0=edge) == pytest.approx(20.0, rel=1e-5)
    assert result.ci[0] < 0.0175 < result.ci[1]
    # Consistent with the p-value: the sequence excludes 0 exactly when the test is significant.
    assert result.significant == (result.ci[0] > 0)


def test_msprt_binomial_defaults_and_validation() -> None:
    same = msprt_binomial(BinomialArm(successes=100, trials=1000), BinomialArm(successes=101, trials=1000))
    assert not same.significant and same.p_value == 1.0  # Lambda < 1: no evidence at all
    assert same.tau == pytest.approx(DEFAULT_RELATIVE_TAU * 201 / 2000)
    assert "Johari" in same.method
    big = msprt_binomial(BinomialArm(successes=1000, trials=10_000), BinomialArm(successes=1300, trials=10_000))
    assert big.significant and big.p_value < 1e-6 and big.ci[0] > 0
    nothing = msprt_binomial(BinomialArm(successes=0, trials=10), BinomialArm(successes=0, trials=10))
    assert (nothing.p_value, nothing.ci) == (1.0, (-1.0, 1.0))
    for kwargs, field in (({"alpha": 1.0}, "alpha"), ({"tau": 0.0}, "tau")):
        with pytest.raises(ValidationFailed) as err:
            msprt_binomial(BinomialArm(successes=1, trials=10), BinomialArm(successes=1, trials=10), **kwargs)
        assert err.value.field == field


def test_msprt_means() -> None:
    control, variant = ContinuousArm(mean=20.0, sd=15.0, n=5000), ContinuousArm(mean=21.5, sd=16.0, n=5000)
    result = msprt_means(control, variant, tau=1.0)
    variance = 15.0**2 / 5000 + 16.0**2 / 5000
    assert result.p_value == pytest.approx(min(1.0, 1 / _mixture_ratio(1.5, variance, 1.0)), rel=1e-6)
    assert result.significant and result.ci[0] > 0
    assert msprt_means(control, variant).tau == pytest.approx(DEFAULT_RELATIVE_TAU * 20.75)
    centred = msprt_means(ContinuousArm(mean=-1.0, sd=2.0, n=100), ContinuousArm(mean=1.0, sd=2.0, n=100))
    assert centred.tau == pytest.approx(0.2)  # pooled mean 0: a tenth of the pooled sd
    with pytest.raises(ValidationFailed) as err:
        msprt_means(ContinuousArm(mean=1.0, sd=1.0, n=1), variant)
    assert err.value.field == "control.n"


def test_running_p_keeps_the_minimum() -> None:
    assert running_p(None, 0.4) == 0.4
    assert running_p(0.2, 0.4) == 0.2
    assert running_p(0.2, 0.01) == 0.01


def _simulate(rng: np.random.Generator, lift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative successes of 2,000 experiments x 30 daily looks, 200 units per arm a day, baseline 0.1."""
    experiments, days, per_day = 2000, 30, 200
    control = rng.binomial(per_day, 0.1, size=(experiments, days)).cumsum(axis=1)
    variant = rng.binomial(per_day, 0.1 * (1 + lift), size=(experiments, days)).cumsum(axis=1)
    trials = np.broadcast_to(per_day * np.arange(1, days + 1), control.shape)
    return control, variant, trials


def test_aa_peeking_simulation_always_valid_holds_alpha_and_naive_does_not() -> None:
    started = time.perf_counter()
    rng = np.random.default_rng(20240601)
    control, variant, trials = _simulate(rng, lift=0.0)
    p_seq = binomial_p_values(control, trials, variant, trials)
    always_valid_fpr = float(np.mean(p_seq.min(axis=1) < 0.05))
    # Naive peeking: the fixed-horizon pooled z-test re-run every day, stopping at the first p < 0.05.
    pc, pv = control / trials, variant / trials
    pooled = (control + variant) / (2 * trials)
    z = (pv - pc) / np.sqrt(pooled * (1 - pooled) * 2 / trials)
    naive_fpr = float(np.mean((2 * stats.norm.sf(np.abs(z)) < 0.05).any(axis=1)))
    elapsed = time.perf_counter() - started
    print(f"A/A, 2000 x 30 looks: always-valid FPR {always_valid_fpr:.4f}, naive FPR {naive_fpr:.4f}, {elapsed:.2f}s")
    # Tolerance: the binomial SE of a rate near 0.05 over 2,000 runs is sqrt(0.05·0.95/2000) ≈ 0.0049; 3 SE ≈ 0.015.
    assert always_valid_fpr <= 0.05 + 0.015
    assert naive_fpr > 0.1
    assert elapsed < 5
    # The scalar API agrees with the vectorised path on one experiment's last look.
    scalar = msprt_binomial(
        BinomialArm(successes=int(control[0, -1]), trials=6000), BinomialArm(successes=int(variant[0, -1]), trials=6000)
    )
    assert scalar.p_value == pytest.approx(float(p_seq[0, -1]), rel=1e-12)


def test_peeking_simulation_has_power_against_a_real_lift() -> None:
    # A test that never rejects would pass the A/A check; a 30% lift (0.10 -> 0.13) must be caught in 30 days.
    control, variant, trials = _simulate(np.random.default_rng(8), lift=0.3)
    assert float(np.mean(binomial_p_values(control, trials, variant, trials).min(axis=1) < 0.05)) > 0.9

"""Experiment statistics checked against scipy/statsmodels, numerical integration and hand-computed values."""

import hashlib
import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from promptsales.domain_core.analytics.model.assignment import assign, bucket
from promptsales.domain_core.analytics.model.experiment_stats import (
    BinomialArm,
    ContinuousArm,
    bayes_binomial,
    bayes_normal,
    benjamini_hochberg,
    sample_ratio_mismatch,
    two_proportion_z,
    welch_t,
)
from promptsales.domain_core.analytics.model.power import days_needed, sample_size_means, sample_size_proportions
from promptsales.domain_core.shared.errors import ValidationFailed

# ---------------------------------------------------------------- assignment


def test_assignment_is_stable_and_follows_the_documented_hash() -> None:
    variants = [("control", 0.5), ("variant", 0.5)]
    first = [assign("exp-1", f"user-{i}", variants) for i in range(200)]
    assert first == [assign("exp-1", f"user-{i}", variants) for i in range(200)]
    # Re-derived independently: SHA-256 of "exp\x1funit", first 8 bytes big-endian over 2**64.
    u = int.from_bytes(hashlib.sha256(b"exp-1\x1fuser-7").digest()[:8], "big") / 2**64
    assert bucket("exp-1", "user-7") == u
    assert assign("exp-1", "user-7", variants) == ("control" if u < 0.5 else "variant")


def test_assignment_distribution_matches_weights() -> None:
    variants = [("a", 5.0), ("b", 3.0), ("c", 2.0)]  # weights need not sum to 1
    names = [assign("exp-weights", f"u{i}", variants) for i in range(20_000)]
    observed = [names.count(n) for n in ("a", "b", "c")]
    assert stats.chisquare(observed, [10_000, 6_000, 4_000]).pvalue > 0.001


def test_assignment_is_independent_across_experiments() -> None:
    variants = [("control", 0.5), ("variant", 0.5)]
    ids = [f"u{i}" for i in range(10_000)]
    first = np.array([assign("exp-A", u, variants) == "variant" for u in ids])
    second = np.array([assign("exp-B", u, variants) == "variant" for u in ids])
    table = [[np.sum(first & second), np.sum(first & ~second)], [np.sum(~first & second), np.sum(~first & ~second)]]
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_zero_weight_variant_never_assigned_and_bad_inputs_rejected() -> None:
    assert {assign("e", f"u{i}", [("off", 0.0), ("on", 1.0)]) for i in range(500)} == {"on"}
    for bad, field in (([], "variants"), ([("a", 1.0), ("a", 1.0)], "variants"), ([("a", -1.0)], "variants")):
        with pytest.raises(ValidationFailed) as err:
            assign("e", "u", bad)
        assert err.value.field == field
    with pytest.raises(ValidationFailed) as err:
        assign("", "u", [("a", 1.0)])
    assert err.value.field == "experiment_id"


# ---------------------------------------------------------------- power


def test_sample_size_proportions_hand_computed() -> None:
    # 0.65 vs 0.85, alpha 0.05, power 0.8: (1.95996 + 0.84162)² · (0.65·0.35 + 0.85·0.15) / 0.2² = 69.66 -> 70.
    assert sample_size_proportions(0.65, 0.2, relative=False) == (70, 70)
    # 10% -> 12% (20% relative): 7.84887 · (0.09 + 0.1056) / 0.0004 = 3838.1 -> 3839.
    assert sample_size_proportions(0.10, 0.20) == (3839, 3839)


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power", "ratio"),
    [(0.1, 0.2, 0.05, 0.8, 1.0), (0.03, 0.1, 0.05, 0.9, 1.0), (0.4, 0.05, 0.01, 0.8, 2.0), (0.2, 0.15, 0.1, 0.8, 0.5)],
)
def test_sample_size_proportions_matches_statsmodels(
    baseline: float, mde: float, alpha: float, power: float, ratio: float
) -> None:
    n_control, n_variant = sample_size_proportions(baseline, mde, alpha=alpha, power=power, ratio=ratio)
    target = baseline * (1 + mde)
    # The same unpooled formula in statsmodels' terms: effect = delta / an sd whose two-arm variance matches ours.
    sd = math.sqrt((baseline * (1 - baseline) + target * (1 - target) / ratio) / (1 + 1 / ratio))
    expected = NormalIndPower().solve_power(
        effect_size=(target - baseline) / sd, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    # statsmodels counts the far tail's power too (< 1e-4 of a unit here), so agreement is up to the rounding up.
    assert n_control - 1 < expected <= n_control + 1e-6
    # Each arm is rounded up from the continuous solution (the smallest sizes that reach the power).
    assert n_variant - 1 < expected * ratio <= n_variant + 1e-6
    # Sanity against Cohen's h (arcsine) sizing, a different approximation: within 3%.
    cohen = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(target, baseline), alpha=alpha, power=power, ratio=ratio
    )
    assert abs(n_control / cohen - 1) < 0.03


@pytest.mark.parametrize(("sd", "mde", "ratio"), [(10.0, 1.0, 1.0), (3.5, 0.4, 3.0), (1.0, 0.05, 0.25)])
def test_sample_size_means_matches_statsmodels(sd: float, mde: float, ratio: float) -> None:
    n_control, n_variant = sample_size_means(sd, mde, ratio=ratio)
    expected = NormalIndPower().solve_power(effect_size=mde / sd, alpha=0.05, power=0.8, ratio=ratio)
    assert n_control - 1 < expected <= n_control + 1e-6
    # Each arm is rounded up from the continuous solution (the smallest sizes that reach the power).
    assert n_variant - 1 < expected * ratio <= n_variant + 1e-6


def test_power_validation_and_days() -> None:
    for call, field in (
        (lambda: sample_size_proportions(1.2, 0.1), "baseline"),
        (lambda: sample_size_proportions(0.9, 0.2), "mde"),
        (lambda: sample_size_proportions(0.1, 0.1, alpha=0), "alpha"),
        (lambda: sample_size_means(0.0, 1.0), "sd"),
        (lambda: sample_size_means(1.0, 1.0, power=1.0), "power"),
        (lambda: sample_size_means(1.0, 1.0, ratio=-1.0), "ratio"),
        (lambda: days_needed(-1, 10.0), "needed_total"),
    ):
        with pytest.raises(ValidationFailed) as err:
            call()
        assert err.value.field == field
    assert days_needed(1000, 300.0) == 4
    assert days_needed(900, 300.0) == 3
    assert days_needed(0, 0.0) == 0
    assert days_needed(10, 0.0) is None


# ---------------------------------------------------------------- fixed-horizon tests


@pytest.mark.parametrize(("xc", "nc", "xv", "nv"), [(100, 1000, 120, 1000), (530, 12_000, 468, 11_850), (7, 90, 1, 40)])
def test_two_proportion_z_matches_statsmodels(xc: int, nc: int, xv: int, nv: int) -> None:
    result = two_proportion_z(BinomialArm(successes=xc, trials=nc), BinomialArm(successes=xv, trials=nv))
    statistic, p_value = proportions_ztest([xv, xc], [nv, nc])  # pooled variance, as ours
    assert result.statistic == pytest.approx(statistic, rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-10)
    low, high = confint_proportions_2indep(xv, nv, xc, nc, method="wald", compare="diff")  # unpooled, as ours
    assert result.absolute_ci == pytest.approx((low, high), rel=1e-10)
    low, high = confint_proportions_2indep(xv, nv, xc, nc, method="log", compare="ratio")  # Katz log-ratio
    assert result.relative_ci == pytest.approx((low - 1, high - 1), rel=1e-10)
    assert result.relative_lift == pytest.approx((xv / nv) / (xc / nc) - 1)


def test_two_proportion_z_degenerate_cases() -> None:
    none = two_proportion_z(BinomialArm(successes=0, trials=50), BinomialArm(successes=0, trials=60))
    assert (none.statistic, none.p_value, none.relative_lift, none.relative_ci) == (0.0, 1.0, None, None)
    zero_variant = two_proportion_z(BinomialArm(successes=10, trials=50), BinomialArm(successes=0, trials=50))
    assert zero_variant.relative_lift == pytest.approx(-1.0)
    assert zero_variant.relative_ci is None
    with pytest.raises(ValidationFailed) as err:
        two_proportion_z(BinomialArm(successes=0, trials=0), BinomialArm(successes=1, trials=2))
    assert err.value.field == "control.trials"
    with pytest.raises(ValidationFailed) as err:
        BinomialArm(successes=3, trials=2)
    assert err.value.field == "successes"


def test_welch_t_matches_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(7)
    control_data, variant_data = rng.gamma(2.0, 10.0, size=400), rng.gamma(2.2, 10.5, size=250)
    arms = [
        ContinuousArm(mean=float(d.mean()), sd=float(d.std(ddof=1)), n=len(d)) for d in (control_data, variant_data)
    ]
    result = welch_t(arms[0], arms[1])
    expected = stats.ttest_ind_from_stats(
        arms[1].mean, arms[1].sd, arms[1].n, arms[0].mean, arms[0].sd, arms[0].n, equal_var=False
    )
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    compare = CompareMeans(DescrStatsW(variant_data), DescrStatsW(control_data))
    assert result.absolute_ci == pytest.approx(compare.tconfint_diff(usevar="unequal"), rel=1e-9)
    assert result.relative_lift == pytest.approx(arms[1].mean / arms[0].mean - 1)
    # Delta method on log means, by hand.
    log_se = math.sqrt(
        arms[1].sd ** 2 / (arms[1].n * arms[1].mean ** 2) + arms[0].sd ** 2 / (arms[0].n * arms[0].mean ** 2)
    )
    ratio = arms[1].mean / arms[0].mean
    assert result.relative_ci == pytest.approx(
        (ratio * math.exp(-1.959964 * log_se) - 1, ratio * math.exp(1.959964 * log_se) - 1), rel=1e-6
    )


def test_welch_t_edges() -> None:
    flat = welch_t(ContinuousArm(mean=2.0, sd=0.0, n=10), ContinuousArm(mean=2.0, sd=0.0, n=10))
    assert (flat.statistic, flat.p_value) == (0.0, 1.0)
    negative = welch_t(ContinuousArm(mean=-1.0, sd=1.0, n=10), ContinuousArm(mean=1.0, sd=1.0, n=10))
    assert negative.relative_lift is None
    with pytest.raises(ValidationFailed) as err:
        welch_t(ContinuousArm(mean=1.0, sd=1.0, n=1), ContinuousArm(mean=1.0, sd=1.0, n=10))
    assert err.value.field == "control.n"


# ---------------------------------------------------------------- Bayesian


def _exact_beta(ac: float, bc: float, av: float, bv: float) -> tuple[float, float]:
    """P(pv > pc) and E[max(pc - pv, 0)] by numerical integration over pv's density."""
    fc, fv = stats.beta(ac, bc), stats.beta(av, bv)
    lo, hi = min(fc.ppf(1e-12), fv.ppf(1e-12)), max(fc.isf(1e-12), fv.isf(1e-12))
    prob = integrate.quad(lambda y: fv.pdf(y) * fc.cdf(y), lo, hi, epsabs=1e-12, limit=200)[0]
    # E[(pc - y)+] = E[pc]·(1 - F_{ac+1,bc}(y)) - y·(1 - F_c(y)), the Beta partial expectation.
    mean_c, shifted = ac / (ac + bc), stats.beta(ac + 1, bc)

    def partial(y: float) -> float:
        return float(fv.pdf(y) * (mean_c * shifted.sf(y) - y * fc.sf(y)))

    return prob, integrate.quad(partial, lo, hi, epsabs=1e-14, limit=200)[0]


@pytest.mark.parametrize(("xc", "nc", "xv", "nv"), [(100, 1000, 120, 1000), (30, 400, 29, 410), (3, 20, 9, 25)])
def test_bayes_binomial_matches_numerical_integration(xc: int, nc: int, xv: int, nv: int) -> None:
    draws = 100_000
    readout = bayes_binomial(BinomialArm(successes=xc, trials=nc), BinomialArm(successes=xv, trials=nv), draws=draws)
    prob, loss = _exact_beta(1 + xc, 1 + nc - xc, 1 + xv, 1 + nv - xv)
    # Monte Carlo standard error of a probability is sqrt(p(1-p)/draws): allow 4 of them.
    assert abs(readout.prob_variant_better - prob) < 4 * math.sqrt(prob * (1 - prob) / draws) + 1e-9
    # Loss SE is below sd(lift)/sqrt(draws); the lift's sd is under 0.1 for these arms, so 4 SE < 0.0013.
    assert readout.expected_loss_choosing_variant == pytest.approx(loss, abs=4 * 0.1 / math.sqrt(draws))
    # Loss identity: E[(D)+] - E[(-D)+] = E[D] (exactly, on the same draws).
    mean_lift = (1 + xv) / (2 + nv) - (1 + xc) / (2 + nc)
    assert readout.expected_loss_choosing_control - readout.expected_loss_choosing_variant == pytest.approx(
        mean_lift, abs=0.002
    )
    low, high = readout.credible_interval_lift
    assert low < mean_lift < high


def test_bayes_binomial_is_seeded() -> None:
    arms = (BinomialArm(successes=50, trials=500), BinomialArm(successes=60, trials=500))
    assert bayes_binomial(*arms, seed=3) == bayes_binomial(*arms, seed=3)
    with pytest.raises(ValidationFailed) as err:
        bayes_binomial(*arms, prior=(0.0, 1.0))
    assert err.value.field == "prior"


def test_bayes_normal_against_monte_carlo() -> None:
    control, variant = ContinuousArm(mean=10.0, sd=4.0, n=300), ContinuousArm(mean=10.6, sd=5.0, n=280)
    readout = bayes_normal(control, variant)
    rng = np.random.default_rng(11)
    draws = 2_000_000
    lift = rng.normal(10.6, 5.0 / math.sqrt(280), draws) - rng.normal(10.0, 4.0 / math.sqrt(300), draws)
    assert readout.prob_variant_better == pytest.approx(np.mean(lift > 0), abs=0.002)
    assert readout.expected_loss_choosing_variant == pytest.approx(np.mean(np.maximum(-lift, 0)), abs=0.001)
    assert readout.expected_loss_choosing_control == pytest.approx(np.mean(np.maximum(lift, 0)), abs=0.001)
    assert readout.credible_interval_lift == pytest.approx(tuple(np.quantile(lift, [0.025, 0.975])), abs=0.005)


# ---------------------------------------------------------------- SRM and BH


def test_srm_matches_scipy_chisquare() -> None:
    fine = sample_ratio_mismatch([5030, 4970], [0.5, 0.5])
    expected = stats.chisquare([5030, 4970], [5000, 5000])
    assert (fine.statistic, fine.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-10)
    assert not fine.mismatch
    assert "consistent" in fine.explanation
    broken = sample_ratio_mismatch([5300, 2700, 2000], [2, 1, 1])
    expected = stats.chisquare([5300, 2700, 2000], [5000, 2500, 2500])
    assert (broken.statistic, broken.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-10)
    assert broken.mismatch
    assert "mismatch" in broken.explanation and "5300" in broken.explanation
    for observed, weights, field in (
        ([1, 2], [1.0], "observed"),
        ([0, 0], [1.0, 1.0], "observed"),
        ([1, 2], [1.0, 0.0], "weights"),
    ):
        with pytest.raises(ValidationFailed) as err:
            sample_ratio_mismatch(observed, weights)
        assert err.value.field == field


def test_benjamini_hochberg_matches_statsmodels() -> None:
    rng = np.random.default_rng(5)
    p_values = np.concatenate([rng.uniform(0, 0.01, 8), rng.uniform(0, 1, 30), [0.04, 0.04, 1.0]])
    rng.shuffle(p_values)
    adjusted, rejected = benjamini_hochberg(list(p_values), q=0.1)
    reject_sm, adjusted_sm, _, _ = multipletests(p_values, alpha=0.1, method="fdr_bh")
    assert adjusted == pytest.approx(list(adjusted_sm), rel=1e-12)
    assert rejected == list(reject_sm)
    assert any(rejected) and not all(rejected)
    assert benjamini_hochberg([]) == ([], [])
    with pytest.raises(ValidationFailed) as err:
        benjamini_hochberg([0.2, 1.5])
    assert err.value.field == "p_values"

"""Fixed-horizon statistics of an A/B test: lift tests, Bayesian readouts, sample-ratio checks and FDR control.

Every comparison reads "variant minus control": a positive lift means the variant's number is higher.
"""

import math
from collections.abc import Sequence

import numpy as np
from pydantic import Field
from scipy.stats import chi2, norm, t  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps

from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed


class BinomialArm(Dto):
    """One arm of a conversion metric: units that converted out of units exposed."""

    successes: int = Field(ge=0)
    trials: int = Field(ge=0)

    def model_post_init(self, context: object, /) -> None:
        """Reject more successes than trials."""
        if self.successes > self.trials:
            raise ValidationFailed("successes cannot exceed trials.", field="successes")

    @property
    def rate(self) -> float:
        """The observed conversion rate (0 with no trials)."""
        return self.successes / self.trials if self.trials else 0.0


class ContinuousArm(Dto):
    """One arm of a continuous metric (e.g. revenue per visitor): its mean, sample sd (ddof 1) and units."""

    mean: float = Field(allow_inf_nan=False)
    sd: float = Field(ge=0, allow_inf_nan=False)
    n: int = Field(ge=0)


class LiftTest(Dto):
    """A frequentist comparison of variant to control: estimates, lifts with CIs, statistic and two-sided p."""

    estimate_control: float
    estimate_variant: float
    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float | None  # None when the control's estimate is not positive (a ratio means nothing)
    relative_ci: tuple[float, float] | None
    statistic: float
    p_value: float
    method: str


class BayesReadout(Dto):
    """A Bayesian comparison: chance the variant is better, expected loss of each choice, credible interval."""

    prob_variant_better: float
    expected_loss_choosing_variant: float  # E[max(control - variant, 0)]: what picking the variant costs if wrong
    expected_loss_choosing_control: float  # E[max(variant - control, 0)]
    credible_interval_lift: tuple[float, float]  # of the absolute lift, variant - control
    method: str


class SrmCheck(Dto):
    """Whether the units split across arms as the weights said (a mismatch means broken assignment)."""

    statistic: float
    p_value: float
    mismatch: bool
    explanation: str


def _check_alpha(alpha: float, field: str = "alpha") -> float:
    """z_{1-alpha/2}, after checking alpha."""
    if not 0 < alpha < 1:
        raise ValidationFailed(f"{field} must be between 0 and 1 (e.g. 0.05).", field=field)
    return float(norm.ppf(1 - alpha / 2))


def _log_ratio_ci(
    ratio: float, log_se: float, z: float, control_estimate: float
) -> tuple[float | None, tuple[float, float] | None]:
    """Relative lift and its CI from a delta-method standard error of log(variant / control)."""
    if control_estimate <= 0 or ratio <= 0 or not math.isfinite(log_se):
        return (ratio - 1 if control_estimate > 0 else None), None
    log_ratio = math.log(ratio)
    return ratio - 1, (math.exp(log_ratio - z * log_se) - 1, math.exp(log_ratio + z * log_se) - 1)


def two_proportion_z(control: BinomialArm, variant: BinomialArm, alpha: float = 0.05) -> LiftTest:
    """Two-proportion z-test: pooled variance for the statistic, unpooled Wald CI, log-ratio CI for the relative lift.

    The pooled statistic is the textbook test of H0: p_c = p_v (and what statsmodels' proportions_ztest reports);
    under H0 the rates are equal, so pooling is the right null variance. The CI is not conditioned on H0, so it uses
    each arm's own variance. Relative CI: delta method on log(p_v / p_c), Var ≈ (1-p_v)/x_v + (1-p_c)/x_c
    (Katz, Baptista, Azen & Pike 1978, "Obtaining confidence intervals for the risk ratio in cohort studies").
    """
    z = _check_alpha(alpha)
    for name, arm in (("control", control), ("variant", variant)):
        if arm.trials == 0:
            raise ValidationFailed(f"The {name} arm has no trials yet.", field=f"{name}.trials")
    pc, pv = control.rate, variant.rate
    diff = pv - pc
    pooled = (control.successes + variant.successes) / (control.trials + variant.trials)
    null_se = math.sqrt(pooled * (1 - pooled) * (1 / control.trials + 1 / variant.trials))
    # Both arms all-converted or none-converted: the data show no difference at all.
    statistic = diff / null_se if null_se > 0 else 0.0
    p_value = float(2 * norm.sf(abs(statistic)))
    se = math.sqrt(pc * (1 - pc) / control.trials + pv * (1 - pv) / variant.trials)
    if control.successes > 0 and variant.successes > 0:
        log_se = math.sqrt((1 - pv) / variant.successes + (1 - pc) / control.successes)
    else:
        log_se = math.inf
    relative, relative_ci = _log_ratio_ci(pv / pc if pc > 0 else 0.0, log_se, z, pc)
    return LiftTest(
        estimate_control=pc,
        estimate_variant=pv,
        absolute_lift=diff,
        absolute_ci=(diff - z * se, diff + z * se),
        relative_lift=relative,
        relative_ci=relative_ci,
        statistic=statistic,
        p_value=p_value,
        method="two-proportion z-test (pooled statistic, unpooled Wald CI, log-ratio CI for relative lift)",
    )


def welch_t(control: ContinuousArm, variant: ContinuousArm, alpha: float = 0.05) -> LiftTest:
    """Welch's t-test with Welch-Satterthwaite degrees of freedom; relative CI by the delta method on log means.

    Log-ratio variance ≈ s_v²/(n_v·m_v²) + s_c²/(n_c·m_c²) (delta method; needs both means positive).
    """
    z = _check_alpha(alpha)
    for name, arm in (("control", control), ("variant", variant)):
        if arm.n < 2:
            raise ValidationFailed(f"The {name} arm needs at least 2 units for a variance.", field=f"{name}.n")
    vc, vv = control.sd**2 / control.n, variant.sd**2 / variant.n
    diff = variant.mean - control.mean
    se = math.sqrt(vc + vv)
    if se == 0:
        # No variation in either arm: any difference is certain, none is nothing.
        statistic = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        p_value, half = (1.0 if diff == 0 else 0.0), 0.0
    else:
        df = (vc + vv) ** 2 / (vc**2 / (control.n - 1) + vv**2 / (variant.n - 1))
        statistic = diff / se
        p_value = float(2 * t.sf(abs(statistic), df))
        half = float(t.ppf(1 - alpha / 2, df)) * se
    if control.mean > 0 and variant.mean > 0:
        log_se = math.sqrt(vv / variant.mean**2 + vc / control.mean**2)
        relative, relative_ci = _log_ratio_ci(variant.mean / control.mean, log_se, z, control.mean)
    else:
        relative = variant.mean / control.mean - 1 if control.mean > 0 else None
        relative_ci = None
    return LiftTest(
        estimate_control=control.mean,
        estimate_variant=variant.mean,
        absolute_lift=diff,
        absolute_ci=(diff - half, diff + half),
        relative_lift=relative,
        relative_ci=relative_ci,
        statistic=statistic,
        p_value=p_value,
        method="Welch t-test (Welch-Satterthwaite df), delta-method log-ratio CI for relative lift",
    )


def _check_level(level: float) -> None:
    """Reject a credible level outside (0, 1)."""
    if not 0 < level < 1:
        raise ValidationFailed("level must be between 0 and 1 (e.g. 0.95).", field="level")


def bayes_binomial(
    control: BinomialArm,
    variant: BinomialArm,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 100_000,
    seed: int = 0,
    level: float = 0.95,
) -> BayesReadout:
    """Beta-binomial readout by seeded, vectorised Monte Carlo from the two Beta posteriors.

    Posterior of a rate: Beta(a + successes, b + failures) (conjugacy). Monte Carlo error of the probability is
    at most 0.5/sqrt(draws) (0.0016 at the default 100k draws).
    """
    _check_level(level)
    a, b = prior
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValidationFailed("prior (alpha, beta) must both be positive.", field="prior")
    if draws < 1000:
        raise ValidationFailed("draws must be at least 1000.", field="draws")
    rng = np.random.default_rng(seed)
    pc = rng.beta(a + control.successes, b + control.trials - control.successes, size=draws)
    pv = rng.beta(a + variant.successes, b + variant.trials - variant.successes, size=draws)
    lift: np.ndarray = pv - pc
    tail = (1 - level) / 2
    low, high = np.quantile(lift, [tail, 1 - tail])
    return BayesReadout(
        prob_variant_better=float(np.mean(lift > 0)),
        expected_loss_choosing_variant=float(np.mean(np.maximum(-lift, 0.0))),
        expected_loss_choosing_control=float(np.mean(np.maximum(lift, 0.0))),
        credible_interval_lift=(float(low), float(high)),
        method=f"Beta-binomial posteriors, Beta({a:g}, {b:g}) prior, Monte Carlo with {draws} draws (seed {seed})",
    )


def bayes_normal(control: ContinuousArm, variant: ContinuousArm, *, level: float = 0.95) -> BayesReadout:
    """Readout for means with normal-approximation posteriors N(mean, sd²/n) (flat prior), in closed form.

    The lift D = variant - control is then N(mu, s²) with mu = m_v - m_c, s² = s_v²/n_v + s_c²/n_c, so
    P(D > 0) = Phi(mu/s) and E[max(-D, 0)] = s·phi(mu/s) - mu·Phi(-mu/s) (the normal partial expectation).
    """
    _check_level(level)
    for name, arm in (("control", control), ("variant", variant)):
        if arm.n < 2:
            raise ValidationFailed(f"The {name} arm needs at least 2 units for a variance.", field=f"{name}.n")
    mu = variant.mean - control.mean
    s = math.sqrt(variant.sd**2 / variant.n + control.sd**2 / control.n)
    if s == 0:
        better = 0.5 if mu == 0 else float(mu > 0)
        return BayesReadout(
            prob_variant_better=better,
            expected_loss_choosing_variant=max(-mu, 0.0),
            expected_loss_choosing_control=max(mu, 0.0),
            credible_interval_lift=(mu, mu),
            method="normal-approximation posteriors (no variation: point masses)",
        )
    ratio = mu / s
    loss_variant = float(s * norm.pdf(ratio) - mu * norm.cdf(-ratio))
    z = float(norm.ppf(1 - (1 - level) / 2))
    return BayesReadout(
        prob_variant_better=float(norm.cdf(ratio)),
        expected_loss_choosing_variant=loss_variant,
        # E[max(D, 0)] - E[max(-D, 0)] = E[D] = mu.
        expected_loss_choosing_control=loss_variant + mu,
        credible_interval_lift=(mu - z * s, mu + z * s),
        method="normal-approximation posteriors N(mean, sd^2/n), flat prior, closed form",
    )


def sample_ratio_mismatch(observed: Sequence[int], weights: Sequence[float], threshold: float = 0.001) -> SrmCheck:
    """Chi-square goodness of fit of the units per arm to the planned weights; p < threshold flags a mismatch.

    The strict default threshold (0.001) is the usual SRM convention (Fabijan et al. 2019, "Diagnosing Sample Ratio
    Mismatch in Online Controlled Experiments", KDD): the check runs on every experiment, so false alarms must be rare.
    """
    if len(observed) != len(weights) or len(observed) < 2:
        raise ValidationFailed("observed and weights need one entry per arm, at least two arms.", field="observed")
    if any(count < 0 for count in observed) or sum(observed) == 0:
        raise ValidationFailed("observed counts must be non-negative and not all zero.", field="observed")
    if any(not (math.isfinite(w) and w > 0) for w in weights):
        raise ValidationFailed("Every arm's weight must be positive.", field="weights")
    if not 0 < threshold < 1:
        raise ValidationFailed("threshold must be between 0 and 1.", field="threshold")
    counts = np.asarray(observed, dtype=float)
    share = np.asarray(weights, dtype=float) / float(np.sum(weights))
    total = float(counts.sum())
    expected = total * share
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    p_value = float(chi2.sf(statistic, len(counts) - 1))
    mismatch = p_value < threshold
    seen = ", ".join(f"{int(c)} ({c / total:.1%})" for c in counts)
    planned = ", ".join(f"{s:.1%}" for s in share)
    verdict = (
        "a sample ratio mismatch: assignment or logging is broken, so the metric results cannot be trusted"
        if mismatch
        else "consistent with the planned split"
    )
    explanation = (
        f"Units per arm {seen} against planned {planned}: chi-square {statistic:.2f}, p = {p_value:.3g} "
        f"(threshold {threshold:g}), {verdict}."
    )
    return SrmCheck(statistic=statistic, p_value=p_value, mismatch=mismatch, explanation=explanation)


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> tuple[list[float], list[bool]]:
    """Benjamini-Hochberg step-up: adjusted p-values (in input order) and which hypotheses are rejected at FDR ``q``.

    Benjamini & Hochberg (1995), JRSS B 57(1): reject the k smallest where p_(k) <= k·q/m; the adjusted value is
    min over j >= i of m·p_(j)/j, capped at 1.
    """
    if not 0 < q < 1:
        raise ValidationFailed("q must be between 0 and 1 (e.g. 0.05).", field="q")
    if len(p_values) == 0:
        return [], []
    p = np.asarray(p_values, dtype=float)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValidationFailed("Every p-value must be between 0 and 1.", field="p_values")
    m = len(p)
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    # Running minimum from the largest p down makes the adjusted values monotone (the step-up rule).
    monotone = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = monotone
    return [float(x) for x in adjusted], [bool(x <= q) for x in adjusted]

"""Always-valid inference for A/B tests: a mixture SPRT that may be checked after every batch of data.

Johari, Koomen, Pekelis & Walsh (2017), "Peeking at A/B Tests: Why it matters, and what to do about it", KDD
(the method behind Optimizely's Stats Engine); also Johari, Pekelis & Walsh (2015), arXiv:1512.04922, "Always
Valid Inference". With D the observed difference (variant - control), V its variance and a normal mixing
distribution N(0, tau²) over the true difference theta, the mixture likelihood ratio against H0: theta = theta0 is
    L(theta0) = sqrt(V / (V + tau²)) · exp(tau² (D - theta0)² / (2 V (V + tau²))),
a martingale under H0, so by Ville's inequality P(ever L ≥ 1/alpha) ≤ alpha. The always-valid p-value is the
running minimum of min(1, 1/L(0)) over looks (``running_p``), and {theta0 : L(theta0) < 1/alpha} is a confidence
sequence: it covers the true difference at every look at once with probability ≥ 1 - alpha.

Mixing sd tau: the effect size the test is most sensitive to. Pass the absolute MDE when there is one. The default,
``DEFAULT_RELATIVE_TAU`` times the pooled baseline (a 10% relative lift, the size marketing tests usually chase),
is estimated from the data; it settles within the first looks, and the A/A simulation in the tests confirms the
false-positive rate stays under alpha. V uses each arm's own observed variance (plug-in, as in the paper).
"""

import math

import numpy as np
from pydantic import Field

from promptsales.domain_core.analytics.model.experiment_stats import BinomialArm, ContinuousArm
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

DEFAULT_RELATIVE_TAU = 0.1  # mixing sd as a share of the pooled baseline when the caller gives none
_FALLBACK_SD_TAU = 0.1  # for means whose pooled baseline is 0: a tenth of a per-unit standard deviation


class SequentialResult(Dto):
    """An always-valid readout at one look: p-value, confidence sequence for the absolute lift, significance."""

    p_value: float = Field(ge=0, le=1)  # this look's; keep the running minimum across looks with running_p
    ci: tuple[float, float]  # absolute lift (variant - control); valid at every look simultaneously
    significant: bool
    alpha: float
    tau: float
    method: str


def running_p(previous: float | None, current: float) -> float:
    """The always-valid p-value after a new look: the smallest seen so far."""
    return current if previous is None else min(previous, current)


def mixture_p_values(difference: np.ndarray, variance: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
    """Per-look mSPRT p-values min(1, 1/L(0)), elementwise; looks with no variance yet give 1 (no evidence)."""
    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    t2 = np.broadcast_to(np.asarray(tau, dtype=float) ** 2, d.shape)
    usable = (v > 0) & (t2 > 0)
    v_safe = np.where(usable, v, 1.0)
    # log L, kept in logs so huge evidence does not overflow.
    log_lr = 0.5 * np.log(v_safe / (v_safe + t2)) + t2 * d**2 / (2 * v_safe * (v_safe + t2))
    p: np.ndarray = np.where(usable, np.minimum(1.0, np.exp(-log_lr)), 1.0)
    return p


def _half_width(variance: float, tau: float, alpha: float) -> float:
    """Half-width of the confidence sequence: |D - theta0| below it keeps L(theta0) < 1/alpha."""
    t2 = tau**2
    return math.sqrt(
        2 * variance * (variance + t2) / t2 * (math.log(1 / alpha) + 0.5 * math.log((variance + t2) / variance))
    )


def _result(
    difference: float, variance: float, tau: float, alpha: float, method: str, bound: float
) -> SequentialResult:
    """The readout from the difference, its variance and the mixing sd; ``bound`` caps the CI (1 for rates)."""
    p = float(mixture_p_values(np.array([difference]), np.array([variance]), tau)[0])
    if variance > 0 and tau > 0:
        half = _half_width(variance, tau, alpha)
        ci = (max(difference - half, -bound), min(difference + half, bound))
    else:
        ci = (-bound, bound)
    return SequentialResult(p_value=p, ci=ci, significant=p < alpha, alpha=alpha, tau=tau, method=method)


def _check(alpha: float, tau: float | None) -> None:
    """Reject alpha outside (0, 1) and a non-positive tau."""
    if not 0 < alpha < 1:
        raise ValidationFailed("alpha must be between 0 and 1 (e.g. 0.05).", field="alpha")
    if tau is not None and not (math.isfinite(tau) and tau > 0):
        raise ValidationFailed("tau (mixing sd, e.g. the absolute MDE) must be positive.", field="tau")


def binomial_p_values(
    control_successes: np.ndarray,
    control_trials: np.ndarray,
    variant_successes: np.ndarray,
    variant_trials: np.ndarray,
    *,
    tau: float | None = None,
) -> np.ndarray:
    """Per-look mSPRT p-values for many (experiment, look) cells at once (cumulative counts, elementwise)."""
    xc, nc = np.asarray(control_successes, dtype=float), np.asarray(control_trials, dtype=float)
    xv, nv = np.asarray(variant_successes, dtype=float), np.asarray(variant_trials, dtype=float)
    nc_safe, nv_safe = np.maximum(nc, 1.0), np.maximum(nv, 1.0)
    pc, pv = xc / nc_safe, xv / nv_safe
    variance = np.where((nc > 0) & (nv > 0), pc * (1 - pc) / nc_safe + pv * (1 - pv) / nv_safe, 0.0)
    mixing = DEFAULT_RELATIVE_TAU * (xc + xv) / np.maximum(nc + nv, 1.0) if tau is None else tau
    return mixture_p_values(pv - pc, variance, mixing)


def msprt_binomial(
    control: BinomialArm, variant: BinomialArm, *, alpha: float = 0.05, tau: float | None = None
) -> SequentialResult:
    """Always-valid test and confidence sequence for the difference of two conversion rates."""
    _check(alpha, tau)
    for name, arm in (("control", control), ("variant", variant)):
        if arm.trials == 0:
            raise ValidationFailed(f"The {name} arm has no trials yet.", field=f"{name}.trials")
    pc, pv = control.rate, variant.rate
    variance = pc * (1 - pc) / control.trials + pv * (1 - pv) / variant.trials
    pooled = (control.successes + variant.successes) / (control.trials + variant.trials)
    mixing = tau if tau is not None else DEFAULT_RELATIVE_TAU * pooled
    method = f"mixture SPRT (Johari et al. 2017), normal mixing sd {mixing:.4g}" + (
        "" if tau is not None else f" ({DEFAULT_RELATIVE_TAU:.0%} of the pooled rate)"
    )
    return _result(pv - pc, variance, mixing, alpha, method, bound=1.0)


def msprt_means(
    control: ContinuousArm, variant: ContinuousArm, *, alpha: float = 0.05, tau: float | None = None
) -> SequentialResult:
    """Always-valid test and confidence sequence for the difference of two means."""
    _check(alpha, tau)
    for name, arm in (("control", control), ("variant", variant)):
        if arm.n < 2:
            raise ValidationFailed(f"The {name} arm needs at least 2 units for a variance.", field=f"{name}.n")
    variance = control.sd**2 / control.n + variant.sd**2 / variant.n
    total = control.n + variant.n
    if tau is not None:
        mixing, basis = tau, ""
    else:
        pooled_mean = (control.mean * control.n + variant.mean * variant.n) / total
        if pooled_mean != 0:
            mixing, basis = DEFAULT_RELATIVE_TAU * abs(pooled_mean), f" ({DEFAULT_RELATIVE_TAU:.0%} of the pooled mean)"
        else:
            pooled_sd = math.sqrt(((control.n - 1) * control.sd**2 + (variant.n - 1) * variant.sd**2) / (total - 2))
            mixing, basis = _FALLBACK_SD_TAU * pooled_sd, f" ({_FALLBACK_SD_TAU:g} pooled sd)"
    method = f"mixture SPRT (Johari et al. 2017), normal mixing sd {mixing:.4g}{basis}"
    return _result(variant.mean - control.mean, variance, mixing, alpha, method, bound=math.inf)

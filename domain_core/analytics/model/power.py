"""Sample sizes for fixed-horizon A/B tests (two-sided z-tests) and the days of traffic they take.

Formulas: Chow, Shao & Wang, "Sample Size Calculations in Clinical Research" (2nd ed., 2008), §3.2.1 (two-sample
means, test for equality) and §4.2 (two-sample proportions, unpooled variance, test for equality), with allocation
ratio k = n_variant / n_control:
    n_control = (z_{1-alpha/2} + z_{1-beta})² · (sd_c² + sd_v² / k) / delta²,   n_variant = k · n_control,
where sd² = p(1 - p) for proportions. The far tail's tiny share of the power is ignored, as in the book.
"""

import math

from scipy.stats import norm  # type: ignore[import-untyped]  # no scipy-stubs in the dev deps

from promptsales.domain_core.shared.errors import ValidationFailed


def _check_design(alpha: float, power: float, ratio: float) -> float:
    """The squared z sum (z_{1-alpha/2} + z_power)² after checking the design parameters."""
    if not 0 < alpha < 1:
        raise ValidationFailed("alpha must be between 0 and 1 (e.g. 0.05).", field="alpha")
    if not 0 < power < 1:
        raise ValidationFailed("power must be between 0 and 1 (e.g. 0.8).", field="power")
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValidationFailed("ratio (variant units per control unit) must be positive.", field="ratio")
    return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) ** 2)


def _arms(n_control: float, ratio: float) -> tuple[int, int]:
    """Whole units per arm, rounded up (a hair of slack so exact integers are not bumped by float noise)."""
    return math.ceil(n_control - 1e-9), math.ceil(n_control * ratio - 1e-9)


def sample_size_proportions(
    baseline: float,
    mde: float,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> tuple[int, int]:
    """(control n, variant n) to detect a rise of ``mde`` over a ``baseline`` rate (relative or absolute)."""
    if not 0 < baseline < 1:
        raise ValidationFailed("baseline must be a rate strictly between 0 and 1 (e.g. 0.04).", field="baseline")
    if not (math.isfinite(mde) and mde > 0):
        raise ValidationFailed("mde (minimum detectable effect) must be positive.", field="mde")
    z2 = _check_design(alpha, power, ratio)
    delta = baseline * mde if relative else mde
    target = baseline + delta
    if target >= 1:
        raise ValidationFailed(
            f"baseline plus mde reaches {target:.4g}; a rate cannot reach 1.", field="mde", hint="Use a smaller mde."
        )
    variance = baseline * (1 - baseline) + target * (1 - target) / ratio
    return _arms(z2 * variance / delta**2, ratio)


def sample_size_means(
    sd: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> tuple[int, int]:
    """(control n, variant n) to detect an absolute change ``mde`` in a mean with per-unit standard deviation ``sd``."""
    if not (math.isfinite(sd) and sd > 0):
        raise ValidationFailed("sd must be positive.", field="sd")
    if not (math.isfinite(mde) and mde > 0):
        raise ValidationFailed("mde (minimum detectable effect) must be positive.", field="mde")
    z2 = _check_design(alpha, power, ratio)
    return _arms(z2 * sd**2 * (1 + 1 / ratio) / mde**2, ratio)


def days_needed(needed_total: int, units_per_day: float) -> int | None:
    """Whole days of traffic to collect ``needed_total`` more units; None when no traffic is coming in."""
    if needed_total < 0:
        raise ValidationFailed("needed_total must not be negative.", field="needed_total")
    if needed_total == 0:
        return 0
    if not math.isfinite(units_per_day) or units_per_day <= 0:
        return None
    return math.ceil(needed_total / units_per_day - 1e-9)

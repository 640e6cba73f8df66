"""The plain-words decision on an A/B test: ship, keep running, or stop, with the numbers behind it."""

from collections.abc import Sequence
from typing import Literal

from promptsales.domain_core.analytics.model.experiment_stats import LiftTest, SrmCheck
from promptsales.domain_core.analytics.model.power import days_needed
from promptsales.domain_core.analytics.model.sequential import SequentialResult
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed


class Verdict(Dto):
    """What to do with the experiment now, why (in words with numbers), and days of traffic still to go."""

    action: Literal["ship", "keep_running", "stop"]
    reason: str
    days_left: int | None


def _lift_words(lift: LiftTest, result: SequentialResult) -> str:
    """'0.12 vs 0.1 (+20.0%, always-valid 95% CI of the difference +0.0031 to +0.037; p = 0.004)'."""
    relative = f"{lift.relative_lift:+.1%}, " if lift.relative_lift is not None else ""
    level = f"{1 - result.alpha:.0%}"
    low, high = result.ci
    return (
        f"{lift.estimate_variant:.4g} vs {lift.estimate_control:.4g} ({relative}always-valid {level} CI of the "
        f"difference {low:+.4g} to {high:+.4g}; p = {result.p_value:.3g})"
    )


def _direction(result: SequentialResult, lift: LiftTest, higher_is_better: bool) -> Literal["better", "worse", "none"]:
    """Whether the variant is significantly better, significantly worse, or neither on one metric."""
    if not result.significant or lift.absolute_lift == 0:
        return "none"
    return "better" if (lift.absolute_lift > 0) == higher_is_better else "worse"


def decide(
    *,
    srm: SrmCheck | None,
    primary: SequentialResult,
    primary_lift: LiftTest,
    guardrails: Sequence[tuple[str, SequentialResult, LiftTest, bool]],
    needed_per_arm: int,
    have_per_arm: int,
    units_per_day: float,
    higher_is_better: bool = True,
) -> Verdict:
    """Apply the rules in order: broken split, harmed guardrail, primary win, primary loss, futility, keep running.

    ``units_per_day`` is the new units a day entering each arm (the same unit as ``needed_per_arm``), so
    days_left = ceil((needed_per_arm - have_per_arm) / units_per_day).
    """
    if needed_per_arm < 0:
        raise ValidationFailed("needed_per_arm must not be negative.", field="needed_per_arm")
    if have_per_arm < 0:
        raise ValidationFailed("have_per_arm must not be negative.", field="have_per_arm")
    if srm is not None and srm.mismatch:
        return Verdict(
            action="stop",
            reason=f"Stop: the traffic split is broken, so no verdict on the metrics. {srm.explanation} "
            "Fix assignment or logging and restart the experiment.",
            days_left=None,
        )
    for name, result, lift, guard_higher_is_better in guardrails:
        if _direction(result, lift, guard_higher_is_better) == "worse":
            return Verdict(
                action="stop",
                reason=f"Stop: the variant significantly harms the guardrail '{name}': {_lift_words(lift, result)}.",
                days_left=None,
            )
    direction = _direction(primary, primary_lift, higher_is_better)
    if direction == "better":
        return Verdict(
            action="ship",
            reason=f"Ship: the variant beats control on the primary metric, {_lift_words(primary_lift, primary)}, "
            f"significant at alpha {primary.alpha:g}, and no guardrail is harmed.",
            days_left=0,
        )
    if direction == "worse":
        return Verdict(
            action="stop",
            reason=f"Stop: the variant is significantly worse on the primary metric, "
            f"{_lift_words(primary_lift, primary)}. Keep control.",
            days_left=None,
        )
    if have_per_arm >= needed_per_arm:
        return Verdict(
            action="stop",
            reason=f"Stop for futility: no detectable effect at the MDE. The planned {needed_per_arm} units per arm "
            f"are in ({have_per_arm} per arm) and the primary metric shows {_lift_words(primary_lift, primary)}, "
            f"not significant at alpha {primary.alpha:g}. Keep control.",
            days_left=0,
        )
    missing = needed_per_arm - have_per_arm
    days = days_needed(missing, units_per_day)
    pace = (
        f"about {days} more day{'s' if days != 1 else ''} at {units_per_day:g} units per arm a day"
        if days is not None
        else "no new traffic is arriving, so it cannot finish until traffic resumes"
    )
    return Verdict(
        action="keep_running",
        reason=f"Keep running: nothing is significant yet, {_lift_words(primary_lift, primary)}; "
        f"{have_per_arm} of {needed_per_arm} units per arm are in, {missing} more needed, {pace}.",
        days_left=days,
    )

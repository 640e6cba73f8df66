"""Whether spend is on plan for the flight so far, and whether a metric meets its target, in plain words.

Pacing band: spend within 90-110 % of what the plan expected by now is on track (0.9 <= ratio <= 1.1, both ends
included); below is underspending, above is overspending. The band is this project's convention, not a platform
rule: platforms may overdeliver on single days and catch up later, so a narrower band would flag ordinary noise.
"""

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from promptsales.domain_core.analytics.model.metrics import CENT, display_name, format_value
from promptsales.domain_core.analytics.model.periods import day_label
from promptsales.domain_core.shared.dto import Dto
from promptsales.domain_core.shared.errors import ValidationFailed

ON_TRACK_LOW = 0.9
ON_TRACK_HIGH = 1.1

PacingStatus = Literal["not_started", "on_track", "underspending", "overspending", "finished"]


class Pacing(Dto):
    """Spend so far against the plan's expectation for the same days."""

    expected_to_date: Decimal
    spent_to_date: Decimal
    ratio: float | None  # spent / expected, 4 places; None when nothing was expected yet
    status: PacingStatus
    explanation: str


class TargetCheck(Dto):
    """A metric's actual value against its target."""

    metric: str
    actual: float | None
    target: float | None
    met: bool | None  # None when either side is unknown
    gap_relative: float | None  # (actual - target) / target, 4 places; positive = above target
    explanation: str


def _money(value: Decimal) -> str:
    """An amount with thousands separators and 2 decimals."""
    return f"{value:,.2f}"


def _percent(ratio: float) -> str:
    """A ratio as a whole percentage."""
    return f"{ratio * 100:.0f}%"


def _validate(planned_total: Decimal, flight_start: date, flight_end: date, spent_to_date: Decimal) -> None:
    """Reject a backwards flight or negative money."""
    if flight_end < flight_start:
        raise ValidationFailed(
            f"flight_end ({flight_end.isoformat()}) is before flight_start ({flight_start.isoformat()}).",
            field="flight_end",
        )
    if planned_total < 0:
        raise ValidationFailed("planned_total cannot be negative.", field="planned_total")
    if spent_to_date < 0:
        raise ValidationFailed("spent_to_date cannot be negative.", field="spent_to_date")


def _expected(
    planned_total: Decimal,
    flight_start: date,
    flight_end: date,
    planned_daily: Sequence[tuple[date, Decimal]] | None,
    through: date,
) -> Decimal:
    """What the plan expected to be spent through ``through`` (cents)."""
    if planned_daily is not None:
        if any(amount < 0 for _, amount in planned_daily):
            raise ValidationFailed("planned_daily amounts cannot be negative.", field="planned_daily")
        return sum((amount for day, amount in planned_daily if day <= through), Decimal(0))
    flight_days = (flight_end - flight_start).days + 1
    elapsed = (min(through, flight_end) - flight_start).days + 1
    return (planned_total * elapsed / flight_days).quantize(CENT, rounding=ROUND_HALF_UP)


def pace(
    *,
    planned_total: Decimal,
    flight_start: date,
    flight_end: date,
    planned_daily: Sequence[tuple[date, Decimal]] | None,
    spent_to_date: Decimal,
    today: date,
) -> Pacing:
    """Spend against plan up to and including ``today`` (pass the last day whose spend is fully reported).

    Without ``planned_daily`` the plan spreads ``planned_total`` evenly over the flight; with it (front-loaded or
    dayparted plans) the expectation is the sum of the planned days up to ``today``.
    """
    _validate(planned_total, flight_start, flight_end, spent_to_date)
    if today < flight_start:
        extra = f" Yet {_money(spent_to_date)} has already been spent." if spent_to_date > 0 else ""
        return Pacing(
            expected_to_date=Decimal("0.00"),
            spent_to_date=spent_to_date,
            ratio=None,
            status="not_started",
            explanation=f"The flight starts on {day_label(flight_start)}; nothing was due to be spent yet.{extra}",
        )
    expected = _expected(planned_total, flight_start, flight_end, planned_daily, today)
    ratio = None if expected == 0 else round(float(spent_to_date / expected), 4)
    if today > flight_end:
        share = f" ({_percent(ratio)})" if ratio is not None else ""
        return Pacing(
            expected_to_date=expected,
            spent_to_date=spent_to_date,
            ratio=ratio,
            status="finished",
            explanation=(
                f"The flight ended on {day_label(flight_end)}: {_money(spent_to_date)} was spent of the "
                f"{_money(expected)} planned{share}."
            ),
        )
    day_number = (today - flight_start).days + 1
    flight_days = (flight_end - flight_start).days + 1
    prefix = (
        f"Day {day_number} of {flight_days}: {_money(spent_to_date)} spent against {_money(expected)} expected by now"
    )
    status: PacingStatus
    if ratio is None:
        # Nothing planned yet (a plan that starts later in the flight): any spend at all is ahead of plan.
        status = "overspending" if spent_to_date > 0 else "on_track"
        explanation = f"{prefix}, so {'spend is ahead of the plan' if spent_to_date > 0 else 'spend is on plan'}."
    else:
        if ratio < ON_TRACK_LOW:
            status = "underspending"
        elif ratio > ON_TRACK_HIGH:
            status = "overspending"
        else:
            status = "on_track"
        explanation = (
            f"{prefix} ({_percent(ratio)} of plan): {status.replace('_', ' ')} "
            f"(on track is {_percent(ON_TRACK_LOW)} to {_percent(ON_TRACK_HIGH)})."
        )
    return Pacing(
        expected_to_date=expected, spent_to_date=spent_to_date, ratio=ratio, status=status, explanation=explanation
    )


def against_target(metric: str, actual: float | None, target: float | None, higher_is_better: bool) -> TargetCheck:
    """Whether ``actual`` meets ``target`` for a metric where higher (or lower) is better, with the gap."""
    name = display_name(metric)
    if actual is None or target is None:
        if actual is None:
            explanation = (
                f"{name} has no value for this period (nothing to divide by yet), so the target is not judged."
            )
        else:
            explanation = f"{name} is {format_value(metric, actual)}; no target is set."
        return TargetCheck(
            metric=metric, actual=actual, target=target, met=None, gap_relative=None, explanation=explanation
        )
    met = actual >= target if higher_is_better else actual <= target
    gap = None if target == 0 else round((actual - target) / abs(target), 4)
    better = (actual > target) == higher_is_better
    if actual == target:
        detail = "exactly on target"
    elif gap is None:
        detail = "better" if better else "worse"
    else:
        detail = f"{abs(gap) * 100:.1f}% {'better' if better else 'worse'}"
    verdict = "target met" if met else "target missed"
    explanation = (
        f"{name} is {format_value(metric, actual)} against a target of {format_value(metric, target)} "
        f"({detail}; {'higher' if higher_is_better else 'lower'} is better): {verdict}."
    )
    return TargetCheck(metric=metric, actual=actual, target=target, met=met, gap_relative=gap, explanation=explanation)

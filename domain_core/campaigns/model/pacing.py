"""How a flight's budget is spread over its days, and whether ads may deliver at a given local time.

- ``even``: every delivering day gets the same share.
- ``front_loaded``: shares fall linearly from twice the last day's on the first day to the last day's, so the
  campaign learns fast early and still runs to the end.
- ``accelerated``: the first third of the flight spends at three times the rate of the rest (at least one day), for
  launches and short offers where early reach matters most.
Days that no daypart covers get nothing. Amounts are cents that add up exactly to the total.
"""

import math
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from promptsales.domain_core.campaigns.model.plan import Schedule
from promptsales.domain_core.shared.errors import ValidationFailed

CENT = Decimal("0.01")


def _delivers_on(schedule: Schedule, day: date) -> bool:
    return not schedule.dayparting or any(day.weekday() in part.days for part in schedule.dayparting)


def _weights(schedule: Schedule) -> list[float]:
    n = schedule.days
    if schedule.pacing == "front_loaded":
        shape = [2.0 - (i / (n - 1) if n > 1 else 0.0) for i in range(n)]
    elif schedule.pacing == "accelerated":
        early = max(1, math.ceil(n / 3))
        shape = [3.0 if i < early else 1.0 for i in range(n)]
    else:
        shape = [1.0] * n
    days = (schedule.start_date + timedelta(days=i) for i in range(n))
    return [w if _delivers_on(schedule, day) else 0.0 for w, day in zip(shape, days, strict=True)]


def daily_budgets(total: Decimal, schedule: Schedule) -> list[tuple[date, Decimal]]:
    """Each day of the flight with its budget in cents, following the schedule's pacing and dayparting."""
    weights = _weights(schedule)
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValidationFailed(
            "No day of the flight falls on a daypart's weekdays, so nothing would deliver.",
            field="schedule.dayparting",
        )
    cents_total = int((total / CENT).to_integral_value(rounding=ROUND_FLOOR))
    exact = [cents_total * w / weight_sum for w in weights]
    cents = [math.floor(x) for x in exact]
    # Largest remainder: leftover cents go to the days that lost most in rounding (earliest first on ties).
    leftovers = sorted(range(len(exact)), key=lambda i: (cents[i] - exact[i], i))
    for i in leftovers[: cents_total - sum(cents)]:
        cents[i] += 1
    remainder = total - Decimal(cents_total) * CENT  # sub-cent dust of the total stays on the first delivering day
    amounts = [Decimal(c) * CENT for c in cents]
    first = next(i for i, w in enumerate(weights) if w > 0)
    amounts[first] += remainder
    return [(schedule.start_date + timedelta(days=i), amount) for i, amount in enumerate(amounts)]


def first_day_budget(total: Decimal, schedule: Schedule) -> Decimal:
    """The budget of the first day that delivers (the highest day for every pacing, hence a safe daily cap)."""
    return next(amount for day, amount in daily_budgets(total, schedule) if _delivers_on(schedule, day))


def delivers_at(schedule: Schedule, local: datetime) -> bool:
    """Whether ads may deliver at ``local`` (naive = the schedule's time zone; aware times are converted)."""
    if local.tzinfo is not None:
        local = local.astimezone(ZoneInfo(schedule.time_zone))
    if not schedule.start_date <= local.date() <= schedule.end_date:
        return False
    if not schedule.dayparting:
        return True
    return any(
        local.weekday() in part.days and part.start_hour <= local.hour < part.end_hour for part in schedule.dayparting
    )

"""Pacing: daily budgets in cents that add up to the total, front-loaded and accelerated flights, dayparting."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptsales.domain_core.campaigns.model.pacing import daily_budgets, delivers_at, first_day_budget
from promptsales.domain_core.campaigns.model.plan import Daypart, Schedule
from promptsales.domain_core.shared.errors import ValidationFailed

START = date(2027, 3, 1)  # a Monday


def schedule(days: int, pacing: str = "even", **extra: object) -> Schedule:
    return Schedule(start_date=START, end_date=START + timedelta(days=days - 1), pacing=pacing, **extra)  # type: ignore[arg-type]


@given(
    total=st.decimals(min_value=0, max_value=1_000_000, places=2),
    days=st.integers(min_value=1, max_value=366),
    pacing=st.sampled_from(["even", "front_loaded", "accelerated"]),
)
def test_daily_budgets_are_cents_adding_up_exactly(total: Decimal, days: int, pacing: str) -> None:
    plan = daily_budgets(total, schedule(days, pacing))
    assert len(plan) == days
    assert sum(amount for _, amount in plan) == total
    assert all(amount >= 0 and amount == amount.quantize(Decimal("0.01")) for _, amount in plan)


@given(total=st.decimals(min_value=100, max_value=1_000_000, places=2), days=st.integers(min_value=6, max_value=366))
def test_front_loaded_and_accelerated_spend_more_early(total: Decimal, days: int) -> None:
    half = days // 2
    early = {
        p: sum(a for _, a in daily_budgets(total, schedule(days, p))[:half])
        for p in ("even", "front_loaded", "accelerated")
    }
    assert early["front_loaded"] > early["even"]
    assert early["accelerated"] > early["even"]


def test_dayparting_leaves_non_delivery_days_empty_and_the_first_day_is_the_cap() -> None:
    weekdays = schedule(14, "front_loaded", dayparting=(Daypart(days=(0, 1, 2, 3, 4), start_hour=8, end_hour=20),))
    plan = daily_budgets(Decimal("1000.00"), weekdays)
    assert all(amount == 0 for day, amount in plan if day.weekday() >= 5)
    assert first_day_budget(Decimal("1000.00"), weekdays) == max(amount for _, amount in plan)
    from_saturday = Schedule(
        start_date=date(2027, 3, 6),
        end_date=date(2027, 3, 12),
        dayparting=(Daypart(days=(0, 1, 2, 3, 4), start_hour=8, end_hour=20),),
    )
    assert first_day_budget(Decimal("50.00"), from_saturday) == Decimal("10.00")  # Monday's, not Saturday's 0
    saturday_only = schedule(2, dayparting=(Daypart(days=(5,), start_hour=0, end_hour=24),))
    with pytest.raises(ValidationFailed) as refused:
        daily_budgets(Decimal("10.00"), saturday_only)
    assert refused.value.field == "schedule.dayparting"


def test_delivers_at_follows_dates_dayparts_and_the_time_zone() -> None:
    madrid = schedule(7, time_zone="Europe/Madrid", dayparting=(Daypart(days=(0,), start_hour=9, end_hour=17),))
    assert delivers_at(madrid, datetime(2027, 3, 1, 9, 0))
    assert not delivers_at(madrid, datetime(2027, 3, 1, 17, 0))  # end hour is exclusive
    assert not delivers_at(madrid, datetime(2027, 3, 2, 10, 0))  # Tuesday
    assert delivers_at(madrid, datetime(2027, 3, 1, 8, 30, tzinfo=UTC))  # 09:30 in Madrid
    assert not delivers_at(schedule(7), datetime(2027, 2, 28, 12, 0))  # before the flight

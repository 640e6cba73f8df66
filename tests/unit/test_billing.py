"""Proration of plan changes and subscription transitions driven by payment events (in and out of order)."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from promptsales.domain_core.business.model.billing import (
    BillingEvent,
    SubscriptionFacts,
    add_interval,
    apply_billing_event,
    plan_change,
    prorated_charge,
)
from promptsales.domain_core.business.model.plans import Price, load_catalogue
from promptsales.domain_core.shared.errors import ValidationFailed

T0 = datetime(2026, 12, 1, tzinfo=UTC)
CATALOGUE = load_catalogue()
PRO, STARTER, ENTERPRISE = CATALOGUE.get("pro"), CATALOGUE.get("starter"), CATALOGUE.get("enterprise")


def usd(amount: str) -> Price:
    return Price(amount=Decimal(amount), currency="USD")


def test_an_upgrade_costs_the_difference_for_the_unused_part_of_the_period() -> None:
    start, end = T0, T0 + timedelta(days=30)

    def upgrade_at(now: datetime) -> Decimal:
        return prorated_charge(usd("29.00"), usd("99.00"), period_start=start, period_end=end, now=now)

    assert upgrade_at(start) == Decimal("70.00")
    assert upgrade_at(start + timedelta(days=15)) == Decimal("35.00")
    assert upgrade_at(start + timedelta(days=20)) == Decimal("23.33")  # 70 x 1/3 = 23.333…
    assert upgrade_at(end) == Decimal("0.00")


def test_a_downgrade_costs_nothing_now_and_refunds_nothing() -> None:
    start, end = T0, T0 + timedelta(days=30)
    assert prorated_charge(usd("99.00"), usd("29.00"), period_start=start, period_end=end, now=start) == Decimal("0.00")


def test_proration_between_currencies_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        euro = Price(amount=Decimal("99"), currency="EUR")
        prorated_charge(usd("29.00"), euro, period_start=T0, period_end=T0, now=T0)
    assert caught.value.field == "plan"


def test_plan_change_direction_follows_rank() -> None:
    assert plan_change(STARTER, PRO) == "upgrade"
    assert plan_change(PRO, STARTER) == "downgrade"
    assert plan_change(PRO, PRO) == "same"


def test_month_steps_clamp_to_the_last_day_of_the_month() -> None:
    assert add_interval(datetime(2026, 1, 31, tzinfo=UTC), usd("1")) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_interval(datetime(2026, 12, 15, tzinfo=UTC), usd("1")) == datetime(2027, 1, 15, tzinfo=UTC)
    yearly = Price(amount=Decimal("1"), interval="year")
    assert add_interval(datetime(2028, 2, 29, tzinfo=UTC), yearly) == datetime(2029, 2, 28, tzinfo=UTC)


def pending(plan: str = "enterprise") -> SubscriptionFacts:
    return SubscriptionFacts(
        plan_id=plan, status="pending", current_period_start=T0, current_period_end=T0, status_changed_at=None
    )


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_activation_starts_the_trial_or_the_first_paid_period() -> None:
    trial = apply_billing_event(pending("pro"), BillingEvent("activated", at(1)), PRO)
    assert trial.status == "trialing"
    assert trial.current_period_end == at(1) + timedelta(days=PRO.trial_days)
    next_billing = at(1) + timedelta(days=31)
    paid = apply_billing_event(pending(), BillingEvent("activated", at(1), next_billing), ENTERPRISE)
    assert (paid.status, paid.current_period_end) == ("active", next_billing)


def test_a_failed_payment_makes_it_past_due_and_a_later_payment_settles_it() -> None:
    active = apply_billing_event(pending(), BillingEvent("activated", at(1)), ENTERPRISE)
    late = apply_billing_event(active, BillingEvent("payment_failed", at(2)), ENTERPRISE)
    assert (late.status, late.past_due_since) == ("past_due", at(2))
    again = apply_billing_event(late, BillingEvent("payment_failed", at(3)), ENTERPRISE)
    assert again.past_due_since == at(2)  # grace counts from the first failure
    settled = apply_billing_event(again, BillingEvent("payment_completed", at(4)), ENTERPRISE)
    assert (settled.status, settled.past_due_since) == ("active", None)
    assert settled.current_period_start == at(4)


def test_suspension_and_reactivation() -> None:
    active = apply_billing_event(pending(), BillingEvent("activated", at(1)), ENTERPRISE)
    suspended = apply_billing_event(active, BillingEvent("suspended", at(2)), ENTERPRISE)
    assert suspended.status == "suspended"
    assert apply_billing_event(suspended, BillingEvent("payment_failed", at(3)), ENTERPRISE).status == "suspended"
    assert apply_billing_event(suspended, BillingEvent("activated", at(4)), ENTERPRISE).status == "active"


def test_cancellation_is_final_whatever_arrives_later() -> None:
    active = apply_billing_event(pending(), BillingEvent("activated", at(1)), ENTERPRISE)
    canceled = apply_billing_event(active, BillingEvent("cancelled", at(2)), ENTERPRISE)
    assert canceled.status == "canceled"
    for kind in ("activated", "payment_completed", "payment_failed", "suspended"):
        assert apply_billing_event(canceled, BillingEvent(kind, at(9)), ENTERPRISE) == canceled  # type: ignore[arg-type]


def test_a_scheduled_downgrade_takes_effect_with_the_first_payment_after_the_period() -> None:
    active = replace(
        apply_billing_event(pending("pro"), BillingEvent("payment_completed", at(1)), PRO),
        scheduled_plan_id="starter",
    )
    early = apply_billing_event(active, BillingEvent("payment_completed", at(2)), PRO)
    assert (early.plan_id, early.scheduled_plan_id) == ("pro", "starter")
    renewal = apply_billing_event(active, BillingEvent("payment_completed", active.current_period_end), PRO)
    assert (renewal.plan_id, renewal.scheduled_plan_id) == ("starter", None)


EVENTS = [
    BillingEvent("activated", at(1)),
    BillingEvent("payment_completed", at(2)),
    BillingEvent("payment_failed", at(3)),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_events_in_any_order_end_in_the_state_of_the_latest_one(order: tuple[int, ...]) -> None:
    facts = pending()
    for index in order:
        facts = apply_billing_event(facts, EVENTS[index], ENTERPRISE)
    assert facts.status == "past_due"  # the failure at minute 3 is the latest word
    assert facts.status_changed_at == at(3)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_cancellation_in_any_position_wins(order: tuple[int, ...]) -> None:
    events = [
        BillingEvent("activated", at(1)),
        BillingEvent("cancelled", at(2)),
        BillingEvent("payment_completed", at(3)),
    ]
    facts = pending()
    for index in order:
        facts = apply_billing_event(facts, events[index], ENTERPRISE)
    assert facts.status == "canceled"

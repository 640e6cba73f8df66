"""Billing rules (pure): proration of plan changes and subscription transitions driven by payment events."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from promptsales.domain_core.business.model.entitlements import SubscriptionStatus
from promptsales.domain_core.business.model.plans import Plan, Price
from promptsales.domain_core.shared.errors import ValidationFailed

CENT = Decimal("0.01")
BillingEventKind = Literal["activated", "payment_completed", "payment_failed", "suspended", "cancelled", "reactivated"]
PlanChange = Literal["upgrade", "downgrade", "same"]


def plan_change(current: Plan, target: Plan) -> PlanChange:
    """Whether moving from ``current`` to ``target`` is an upgrade (higher rank) or a downgrade."""
    if target.id == current.id:
        return "same"
    return "upgrade" if target.rank > current.rank else "downgrade"


def prorated_charge(old: Price, new: Price, *, period_start: datetime, period_end: datetime, now: datetime) -> Decimal:
    """What an immediate upgrade costs now: the price difference for the unused part of the period.

    charge = (new - old) x (period_end - now) / (period_end - period_start), rounded half-up to the cent;
    never negative (downgrades take effect at the period end instead, with nothing refunded).
    """
    if old.currency != new.currency:
        raise ValidationFailed(
            f"Cannot prorate between {old.currency} and {new.currency} plans.",
            field="plan",
            hint="Cancel and subscribe to the new plan instead.",
        )
    total = (period_end - period_start).total_seconds()
    left = max((period_end - now).total_seconds(), 0.0)
    if total <= 0 or left == 0:
        return Decimal("0.00")
    difference = max(new.amount - old.amount, Decimal(0))
    fraction = Decimal(str(left)) / Decimal(str(total))
    return (difference * fraction).quantize(CENT, rounding=ROUND_HALF_UP)


def add_interval(moment: datetime, price: Price, count: int = 1) -> datetime:
    """``moment`` plus ``count`` billing intervals (month ends clamp to the last day of the month)."""
    months = count * (12 if price.interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """A payment-provider event about one subscription, reduced to what the rules need."""

    kind: BillingEventKind
    occurred_at: datetime
    next_billing_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """The stored state of one provider subscription."""

    plan_id: str
    status: SubscriptionStatus | Literal["pending"]
    current_period_start: datetime
    current_period_end: datetime
    status_changed_at: datetime | None
    past_due_since: datetime | None = None
    scheduled_plan_id: str | None = None
    canceled_at: datetime | None = None


def _period_from(event: BillingEvent, plan: Plan) -> tuple[datetime, datetime]:
    """The period an event opens: until the provider's next billing time, else one billing interval."""
    start = event.occurred_at
    next_billing = event.next_billing_at
    return start, next_billing if next_billing is not None and next_billing > start else add_interval(start, plan.price)


def apply_billing_event(facts: SubscriptionFacts, event: BillingEvent, plan: Plan) -> SubscriptionFacts:
    """The subscription after ``event``; events older than the last status change do not move the status
    (deliveries arrive out of order), and a canceled subscription stays canceled."""
    if facts.status == "canceled":
        return facts
    # Providers stamp events to the second: events of the same second apply in the order they arrive.
    stale = facts.status_changed_at is not None and event.occurred_at < facts.status_changed_at
    if event.kind == "cancelled":
        # Cancellation is final whatever its timestamp; access continues until the paid period ends.
        return replace(facts, status="canceled", canceled_at=event.occurred_at, status_changed_at=event.occurred_at)
    if stale:
        return facts
    moved = replace(facts, status_changed_at=event.occurred_at)
    if event.kind in ("activated", "reactivated"):
        if facts.status == "pending":
            start, end = _first_period(event, plan)
            status: SubscriptionStatus = "trialing" if plan.trial_days else "active"
            return replace(moved, status=status, current_period_start=start, current_period_end=end)
        if facts.status == "suspended":
            return replace(moved, status="active", past_due_since=None)
        return moved
    if event.kind == "payment_completed":
        start, end = _period_from(event, plan)
        plan_id = facts.plan_id
        scheduled = facts.scheduled_plan_id
        if scheduled is not None and event.occurred_at >= facts.current_period_end:
            plan_id, scheduled = scheduled, None
        return replace(
            moved,
            plan_id=plan_id,
            scheduled_plan_id=scheduled,
            status="active",
            current_period_start=start,
            current_period_end=end,
            past_due_since=None,
        )
    if event.kind == "payment_failed":
        if facts.status == "suspended":
            return moved
        return replace(moved, status="past_due", past_due_since=facts.past_due_since or event.occurred_at)
    if event.kind == "suspended":
        return replace(moved, status="suspended")
    return facts


def _first_period(event: BillingEvent, plan: Plan) -> tuple[datetime, datetime]:
    """The trial, or else the first paid period, starting when the buyer approved."""
    start = event.occurred_at
    if plan.trial_days:
        return start, start + timedelta(days=plan.trial_days)
    return _period_from(event, plan)

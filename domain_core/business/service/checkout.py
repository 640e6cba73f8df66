"""start_checkout: subscribe to a paid plan, or change plan (upgrades prorated now, downgrades at period end).

The facade runs it in three steps so no row is locked while PayPal answers: ``plan_checkout`` decides what
is needed (a read), the facade makes the PayPal call, and ``record`` writes the outcome (one transaction).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from promptsales.domain_core.business.commands import RecordPlanRevision, StartCheckout
from promptsales.domain_core.business.dto import CheckoutView
from promptsales.domain_core.business.model.billing import PlanChange, plan_change, prorated_charge
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.provider.account import PROVIDER, request_id
from promptsales.domain_core.business.provider.calls import ProviderObject
from promptsales.domain_core.business.repository import checkouts as checkouts_repo
from promptsales.domain_core.business.repository import provider as provider_repo
from promptsales.domain_core.business.repository import subscriptions as subscriptions_repo
from promptsales.domain_core.business.service.standing import Policy, load_standing
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

ACTION = "business.start_checkout"
REVISION_ACTION = "business.record_revision"
CHANGEABLE = ("trialing", "active")
ZERO = Decimal("0.00")
# subscribe: a new PayPal subscription; upgrade: an order for the prorated difference; change: only the
# recurring price moves (a downgrade, an upgrade during the trial, or nothing left to prorate).
StepKind = Literal["subscribe", "upgrade", "change"]


@dataclass(frozen=True, slots=True)
class CheckoutStep:
    """What a checkout needs from PayPal, decided from the tenant's subscription before PayPal is called."""

    kind: StepKind
    target: Plan
    subscription_id: str | None = None
    provider_subscription_id: str | None = None
    change: PlanChange | None = None
    amount: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PreparedCheckout:
    """A checkout step with what PayPal created for it (``nonce`` makes its request ids unique)."""

    step: CheckoutStep
    created: ProviderObject
    nonce: str


async def plan_checkout(uow: UnitOfWork, command: StartCheckout, *, policy: Policy) -> CheckoutStep:
    """Decide what moving to ``command.plan`` needs; refuses plans that need no checkout or no change."""
    target = policy.catalogue.get(command.plan, field="plan")
    if not target.is_paid:
        raise ValidationFailed(
            f"The {target.name} plan needs no checkout.",
            field="plan",
            hint="To move to it, cancel the paid subscription (business_cancel_subscription); it ends at period end.",
        )
    _, record = await load_standing(uow, policy)
    if record is None or record.provider != PROVIDER or not record.provider_subscription_id:
        return CheckoutStep("subscribe", target)
    if record.status == "canceled":
        return CheckoutStep("subscribe", target)
    current = policy.catalogue.get(record.plan_id)
    change = plan_change(current, target)
    if change == "same" and record.scheduled_plan_id is None:
        raise Conflict(f"The tenant is already on the {target.name} plan.", field="plan")
    if record.status not in CHANGEABLE:
        raise Conflict(
            f"The plan cannot change while the subscription is {record.status}.",
            hint="Settle the payment in PayPal first; business_get_subscription shows the state.",
        )
    amount = ZERO
    if change == "upgrade" and record.status == "active":
        amount = prorated_charge(
            current.price,
            target.price,
            period_start=record.current_period_start,
            period_end=record.current_period_end,
            now=uow.now,
        )
    return CheckoutStep(
        "upgrade" if amount > 0 else "change",
        target,
        subscription_id=record.id,
        provider_subscription_id=record.provider_subscription_id,
        change=change,
        amount=amount,
    )


async def record(uow: UnitOfWork, prepared: PreparedCheckout) -> CheckoutView:
    """Write what the checkout created in PayPal."""
    if prepared.step.kind == "subscribe":
        return await _record_subscription(uow, prepared)
    if prepared.step.kind == "upgrade":
        return await _record_upgrade_order(uow, prepared)
    return await _record_plan_change(uow, prepared)


async def _record_subscription(uow: UnitOfWork, prepared: PreparedCheckout) -> CheckoutView:
    target, created = prepared.step.target, prepared.created
    assert created.approve_url is not None  # provider.calls.subscribe refuses a subscription without one
    await checkouts_repo.supersede_pending(uow)
    subscription = await subscriptions_repo.create(
        uow,
        plan_id=target.id,
        status="pending",
        provider=PROVIDER,
        provider_subscription_id=created.id,
        period_start=uow.now,
        period_end=uow.now,
    )
    checkout = await checkouts_repo.create(
        uow,
        kind="subscribe",
        plan_id=target.id,
        subscription_id=subscription.id,
        provider_ref=created.id,
        approve_url=created.approve_url,
        amount=target.price.amount,
        currency=target.price.currency,
    )
    await provider_repo.link(uow, provider_ref=created.id, provider=PROVIDER, kind="subscription")
    uow.audit(ACTION, target_type="checkout", target_id=checkout.id, after={"plan": target.id, "kind": "subscribe"})
    first = f"after a {target.trial_days}-day free trial" if target.trial_days else "now"
    return CheckoutView(
        checkout_id=checkout.id,
        kind="subscribe",
        plan=target.id,
        status="pending",
        approve_url=created.approve_url,
        amount=str(target.price.amount),
        currency=target.price.currency,
        message=f"Send the buyer to approve_url. {target.name} is billed {target.price.amount} "
        f"{target.price.currency} per {target.price.interval}, first charge {first}; the plan applies once "
        "PayPal confirms.",
    )


async def _record_upgrade_order(uow: UnitOfWork, prepared: PreparedCheckout) -> CheckoutView:
    step, order = prepared.step, prepared.created
    target, amount = step.target, step.amount
    assert step.subscription_id is not None and order.approve_url is not None  # an upgrade of a subscription
    await checkouts_repo.supersede_pending(uow)
    checkout = await checkouts_repo.create(
        uow,
        kind="upgrade",
        plan_id=target.id,
        subscription_id=step.subscription_id,
        provider_ref=order.id,
        approve_url=order.approve_url,
        amount=amount,
        currency=target.price.currency,
    )
    await provider_repo.link(uow, provider_ref=order.id, provider=PROVIDER, kind="order")
    uow.audit(
        ACTION,
        target_type="checkout",
        target_id=checkout.id,
        after={"plan": target.id, "kind": "upgrade", "amount": str(amount)},
    )
    return CheckoutView(
        checkout_id=checkout.id,
        kind="upgrade",
        plan=target.id,
        status="pending",
        approve_url=order.approve_url,
        amount=str(amount),
        currency=target.price.currency,
        message=f"Send the buyer to approve_url to pay {amount} {target.price.currency}, the price difference for "
        f"the rest of the period; {target.name} applies as soon as PayPal confirms the payment.",
    )


async def _record_plan_change(uow: UnitOfWork, prepared: PreparedCheckout) -> CheckoutView:
    step, target = prepared.step, prepared.step.target
    assert step.subscription_id is not None  # a change of an existing subscription
    fresh = await subscriptions_repo.by_id(uow, step.subscription_id)
    if fresh is None or fresh.status not in CHANGEABLE:
        raise Conflict("The subscription changed meanwhile; check business_get_subscription and retry.")
    before = {"plan": fresh.plan_id, "scheduled_plan": fresh.scheduled_plan_id}
    immediate = step.change == "upgrade"
    if immediate:
        fresh.plan_id, fresh.scheduled_plan_id = target.id, None
    else:
        fresh.scheduled_plan_id = None if step.change == "same" else target.id
    await subscriptions_repo.save(uow, fresh)
    approve_url = prepared.created.approve_url
    if approve_url:
        await checkouts_repo.create(
            uow,
            kind="revise",
            plan_id=target.id,
            subscription_id=fresh.id,
            provider_ref=f"rev-{request_id(fresh.id, target.id, prepared.nonce)}",
            approve_url=approve_url,
            amount=ZERO,
            currency=target.price.currency,
        )
    uow.audit(
        ACTION,
        target_type="subscription",
        target_id=fresh.id,
        before=before,
        after={"plan": fresh.plan_id, "scheduled_plan": fresh.scheduled_plan_id},
    )
    uow.emit("business.plan_changed", {"subscription_id": fresh.id, "plan": target.id, "immediate": immediate})
    when = "now" if immediate else f"at {fresh.current_period_end.isoformat()} (end of the paid period)"
    return CheckoutView(
        checkout_id=None,
        kind="upgrade" if immediate else "downgrade",
        plan=target.id,
        status="scheduled",
        approve_url=approve_url,
        amount="0.00",
        currency=target.price.currency,
        message=f"{target.name} applies {when}; nothing is charged today. "
        + ("Have the buyer approve the new recurring price at approve_url." if approve_url else ""),
    )


async def record_revision(uow: UnitOfWork, command: RecordPlanRevision, *, policy: Policy) -> CheckoutView:
    """After a paid upgrade: keep the link where the buyer approves the new recurring price (the pending checkout)."""
    plan = policy.catalogue.get(command.plan)
    subscription = await subscriptions_repo.by_provider_id(uow, command.provider_subscription_id)
    if subscription is None:
        raise Conflict(f"Subscription {command.provider_subscription_id} is not this tenant's.")
    await checkouts_repo.supersede_pending(uow)
    checkout = await checkouts_repo.create(
        uow,
        kind="revise",
        plan_id=plan.id,
        subscription_id=subscription.id,
        provider_ref=f"rev-{request_id(subscription.id, plan.id, new_id('rev'))}",
        approve_url=command.approve_url,
        amount=ZERO,
        currency=plan.price.currency,
    )
    uow.audit(ACTION, target_type="checkout", target_id=checkout.id, after={"plan": plan.id, "kind": "revise"})
    return CheckoutView(
        checkout_id=checkout.id,
        kind="upgrade",
        plan=plan.id,
        status="pending",
        approve_url=command.approve_url,
        amount="0.00",
        currency=plan.price.currency,
        message=f"Have the buyer approve the {plan.name} recurring price at approve_url.",
    )

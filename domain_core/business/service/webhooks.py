"""Applies a verified PayPal event to the tenant's subscriptions, checkouts and payments, exactly once."""

from datetime import datetime
from decimal import Decimal

from pydantic import ValidationError

from promptsales.domain_core.business.commands import ApplyPaypalEvent
from promptsales.domain_core.business.model.billing import (
    BillingEvent,
    BillingEventKind,
    SubscriptionFacts,
    apply_billing_event,
)
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.paypal.wire import PayPalWebhookEvent
from promptsales.domain_core.business.repository import checkouts as checkouts_repo
from promptsales.domain_core.business.repository import payments as payments_repo
from promptsales.domain_core.business.repository import provider as provider_repo
from promptsales.domain_core.business.repository import receipts as receipts_repo
from promptsales.domain_core.business.repository import subscriptions as subscriptions_repo
from promptsales.domain_core.business.service.standing import Policy
from promptsales.domain_core.business.tables import CheckoutRecord, SubscriptionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.dto import Dto

ACTION = "business.paypal_webhook"
# PayPal event names: https://developer.paypal.com/api/rest/webhooks/event-names/
SUBSCRIPTION_EVENTS: dict[str, BillingEventKind] = {
    "BILLING.SUBSCRIPTION.ACTIVATED": "activated",
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": "reactivated",
    "BILLING.SUBSCRIPTION.CANCELLED": "cancelled",
    "BILLING.SUBSCRIPTION.EXPIRED": "cancelled",
    "BILLING.SUBSCRIPTION.SUSPENDED": "suspended",
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": "payment_failed",
}
SALE_COMPLETED = "PAYMENT.SALE.COMPLETED"
CAPTURE_EVENTS = {"PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DECLINED"}
ORDER_APPROVED = "CHECKOUT.ORDER.APPROVED"


class Applied(Dto):
    """What handling an event did, and whether the provider subscription must move to a new plan."""

    outcome: str
    revise_subscription: str | None = None  # the PayPal subscription whose recurring price must move
    revise_plan: str | None = None  # to this plan of ours


def parse_event(raw_body: bytes) -> PayPalWebhookEvent | None:
    """The delivered event (None: not a PayPal event)."""
    try:
        return PayPalWebhookEvent.model_validate_json(raw_body)
    except ValidationError:
        return None


def order_to_capture(event: PayPalWebhookEvent) -> str | None:
    """The order whose money must be taken before the event applies (the buyer approved an upgrade order)."""
    return event.order_id if event.event_type == ORDER_APPROVED and event.order_id else None


def lookup_refs(event: PayPalWebhookEvent) -> list[str]:
    """Provider ids that tell which tenant an event belongs to, most specific first."""
    refs = [event.billing_agreement_id, event.order_id, event.resource_id]
    return [ref for ref in refs if ref]


async def tenant_of(uow: UnitOfWork, event: PayPalWebhookEvent) -> str | None:
    """Whose PayPal object the (still unverified) event is about; None when it is not one we created."""
    for ref in lookup_refs(event):
        tenant = await provider_repo.tenant_of(uow, ref)
        if tenant is not None:
            return tenant
    return None


def _facts(record: SubscriptionRecord) -> SubscriptionFacts:
    return SubscriptionFacts(
        plan_id=record.plan_id,
        status=record.status,  # type: ignore[arg-type]  # stored values are the vocabulary's
        current_period_start=record.current_period_start,
        current_period_end=record.current_period_end,
        status_changed_at=record.status_changed_at,
        past_due_since=record.past_due_since,
        scheduled_plan_id=record.scheduled_plan_id,
        canceled_at=record.canceled_at,
    )


def _store(record: SubscriptionRecord, facts: SubscriptionFacts) -> None:
    record.plan_id = facts.plan_id
    record.status = facts.status
    record.current_period_start = facts.current_period_start
    record.current_period_end = facts.current_period_end
    record.status_changed_at = facts.status_changed_at
    record.past_due_since = facts.past_due_since
    record.scheduled_plan_id = facts.scheduled_plan_id
    record.canceled_at = facts.canceled_at


def _next_billing(event: PayPalWebhookEvent) -> datetime | None:
    billing = event.resource.get("billing_info")
    value = billing.get("next_billing_time") if isinstance(billing, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def already_received(uow: UnitOfWork, event_id: str) -> bool:
    """Whether this event id was handled before."""
    return await receipts_repo.exists(uow, event_id)


async def apply_event(uow: UnitOfWork, command: ApplyPaypalEvent, *, policy: Policy) -> Applied:
    """Record the receipt and apply the event (a redelivery changes nothing); ``command.capture`` is the result
    of capturing an approved order, applied like the capture event PayPal sends for it."""
    event = command.event
    fresh = await receipts_repo.record(
        uow,
        event_id=event.id,
        event_type=event.event_type,
        resource_id=event.resource_id or "",
        occurred_at=event.create_time,
    )
    if not fresh:
        return Applied(outcome="duplicate: already applied")
    applied = await _dispatch(uow, policy, command)
    await receipts_repo.set_outcome(uow, event.id, applied.outcome)
    return applied


async def _dispatch(uow: UnitOfWork, policy: Policy, command: ApplyPaypalEvent) -> Applied:
    event, capture = command.event, command.capture
    kind = SUBSCRIPTION_EVENTS.get(event.event_type)
    if kind is not None and event.resource_id:
        return await _subscription_event(uow, policy, event, event.resource_id, kind)
    if event.event_type == SALE_COMPLETED and event.billing_agreement_id:
        return await _subscription_event(uow, policy, event, event.billing_agreement_id, "payment_completed")
    if event.event_type in CAPTURE_EVENTS and event.order_id and event.resource_id:
        completed = event.event_type == "PAYMENT.CAPTURE.COMPLETED"
        return await _capture(uow, event.order_id, event.resource_id, completed, event.amount, event.create_time)
    if event.event_type == ORDER_APPROVED and event.order_id and capture is not None:
        return await _capture(
            uow, event.order_id, capture.id, capture.status == "COMPLETED", capture.amount, event.create_time
        )
    return Applied(outcome=f"ignored: {event.event_type} needs no action")


async def _subscription_event(
    uow: UnitOfWork, policy: Policy, event: PayPalWebhookEvent, provider_id: str, kind: BillingEventKind
) -> Applied:
    record = await subscriptions_repo.by_provider_id(uow, provider_id)
    if record is None:
        return Applied(outcome=f"ignored: subscription {provider_id} is not ours")
    plan = policy.catalogue.get(record.plan_id)
    before = _facts(record)
    after = apply_billing_event(before, BillingEvent(kind, event.create_time, _next_billing(event)), plan)
    if kind in ("payment_completed", "payment_failed"):
        await _record_payment(uow, event, record, plan, completed=kind == "payment_completed")
    if after == before:
        return Applied(outcome=f"recorded: {event.event_type} does not change the {before.status} subscription")
    was_pending = before.status == "pending"
    _store(record, after)
    await subscriptions_repo.save(uow, record)
    if was_pending and after.status in ("trialing", "active"):
        await _complete_subscribe_checkout(uow, record)
    uow.audit(
        "business.subscription_transition",
        target_type="subscription",
        target_id=record.id,
        before={"status": before.status, "plan": before.plan_id},
        after={"status": after.status, "plan": after.plan_id, "event": event.event_type},
    )
    uow.emit(
        "business.subscription_changed",
        {"subscription_id": record.id, "status": after.status, "plan": after.plan_id, "event_id": event.id},
    )
    return Applied(outcome=f"applied: {before.status} -> {after.status}")


async def _complete_subscribe_checkout(uow: UnitOfWork, record: SubscriptionRecord) -> None:
    """The buyer approved: close the checkout, and end any earlier subscription the new one replaces."""
    assert record.provider_subscription_id is not None
    checkout = await checkouts_repo.by_ref(uow, record.provider_subscription_id)
    if checkout is not None:
        await checkouts_repo.close(uow, checkout, "completed")
    replaced = [
        other
        for other in await subscriptions_repo.live_others(uow, exclude_id=record.id)
        # A paid subscription is only ended through PayPal (else it would keep billing).
        if other.provider == "manual"
    ]
    for other in replaced:
        other.status, other.canceled_at = "canceled", uow.now
        other.current_period_end = min(other.current_period_end, uow.now)
    await subscriptions_repo.save(uow, *replaced)


async def _record_payment(
    uow: UnitOfWork, event: PayPalWebhookEvent, record: SubscriptionRecord, plan: Plan, *, completed: bool
) -> None:
    # A failed cycle has no sale id; the event id identifies that attempt.
    payment_id = (event.resource_id if completed and event.resource_id else event.id)[:64]
    if await payments_repo.exists(uow, payment_id):
        return
    # A failed cycle's event is the subscription itself, without an amount: what was due is the plan's price.
    amount, currency = (event.amount, event.currency) if event.amount is not None else (plan.price.amount, None)
    await payments_repo.create(
        uow,
        provider_payment_id=payment_id,
        subscription_id=record.id,
        kind="cycle",
        plan_id=record.plan_id,
        amount=amount,
        currency=currency or plan.price.currency,
        status="completed" if completed else "failed",
        occurred_at=event.create_time,
    )


async def _capture(
    uow: UnitOfWork, order_id: str, capture_id: str, completed: bool, amount: Decimal | None, at: datetime
) -> Applied:
    checkout = await checkouts_repo.by_ref(uow, order_id)
    if checkout is None or checkout.kind != "upgrade":
        return Applied(outcome=f"ignored: order {order_id} is not an upgrade checkout")
    if not await payments_repo.exists(uow, capture_id[:64]):
        await _record_proration(uow, checkout, capture_id, completed, amount, at)
    if checkout.status != "pending":
        return Applied(outcome=f"recorded: checkout already {checkout.status}")
    await checkouts_repo.close(uow, checkout, "completed" if completed else "declined")
    if not completed:
        return Applied(outcome="applied: upgrade payment declined; the plan is unchanged")
    subscription = await subscriptions_repo.by_id(uow, checkout.subscription_id)
    if subscription is None or subscription.status == "canceled":
        return Applied(outcome="recorded: the subscription was canceled before the upgrade was paid")
    before = subscription.plan_id
    subscription.plan_id, subscription.scheduled_plan_id = checkout.plan_id, None
    await subscriptions_repo.save(uow, subscription)
    uow.audit(
        "business.plan_upgraded",
        target_type="subscription",
        target_id=subscription.id,
        before={"plan": before},
        after={"plan": checkout.plan_id, "paid": checkout.amount},
    )
    uow.emit("business.plan_changed", {"subscription_id": subscription.id, "plan": checkout.plan_id, "immediate": True})
    moves = subscription.provider_subscription_id is not None
    return Applied(
        outcome=f"applied: upgraded {before} -> {checkout.plan_id}",
        revise_subscription=subscription.provider_subscription_id,
        revise_plan=checkout.plan_id if moves else None,
    )


async def _record_proration(
    uow: UnitOfWork, checkout: CheckoutRecord, capture_id: str, completed: bool, amount: Decimal | None, at: datetime
) -> None:
    await payments_repo.create(
        uow,
        provider_payment_id=capture_id,
        subscription_id=checkout.subscription_id,
        kind="proration",
        plan_id=checkout.plan_id,
        amount=amount if amount is not None else checkout.amount,
        currency=checkout.currency,
        status="completed" if completed else "declined",
        occurred_at=at,
    )

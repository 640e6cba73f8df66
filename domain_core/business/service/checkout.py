"""start_checkout: subscribe to a paid plan, or change plan (upgrades prorated now, downgrades at period end).

Calls to PayPal happen outside any database transaction (no row is locked while the network answers);
their request ids derive from the caller's idempotency key, so a retried checkout reuses the same objects.
"""

from decimal import Decimal
from typing import Any

from promptsales.domain_core.business import repository as repo
from promptsales.domain_core.business.dto import CheckoutView
from promptsales.domain_core.business.model.billing import plan_change, prorated_charge
from promptsales.domain_core.business.model.plans import Plan
from promptsales.domain_core.business.service.provider import PROVIDER, PayPalAccount, provider_plan_id, request_id
from promptsales.domain_core.business.service.standing import Policy, load_standing
from promptsales.domain_core.business.tables import CheckoutRecord, SubscriptionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import Conflict, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

ACTION = "business.start_checkout"
CHANGEABLE = ("trialing", "active")


async def start_checkout(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    policy: Policy,
    account: PayPalAccount,
    *,
    plan_id: str,
    idempotency_key: str | None,
) -> CheckoutView:
    """Start paying for ``plan_id``; the returned approve_url is where the buyer approves in PayPal."""
    target = policy.catalogue.get(plan_id, field="plan")
    if not target.is_paid:
        raise ValidationFailed(
            f"The {target.name} plan needs no checkout.",
            field="plan",
            hint="To move to it, cancel the paid subscription (business_cancel_subscription); it ends at period end.",
        )

    async def current(uow: UnitOfWork) -> SubscriptionRecord | None:
        return (await load_standing(uow, policy))[1]

    record = await uow_factory.read(caller, current)
    nonce = idempotency_key or new_id("co")
    arguments: dict[str, Any] = {"plan": target.id}
    if (
        record is not None
        and record.provider == PROVIDER
        and record.provider_subscription_id
        and record.status != "canceled"
    ):
        return await _change_plan(
            uow_factory, caller, policy, account, record, target, nonce, arguments, idempotency_key
        )
    return await _subscribe(uow_factory, caller, account, target, nonce, arguments, idempotency_key)


async def _subscribe(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    account: PayPalAccount,
    target: Plan,
    nonce: str,
    arguments: dict[str, Any],
    idempotency_key: str | None,
) -> CheckoutView:
    paypal_plan = await provider_plan_id(uow_factory, account, target)
    created = await account.client.create_subscription(
        plan_id=paypal_plan,
        custom_id=caller.tenant_id,
        return_url=account.return_url,
        cancel_url=account.cancel_url,
        request_id=request_id(caller.tenant_id, "subscribe", target.id, nonce),
    )
    if not created.approve_url:
        raise Conflict("PayPal returned no approval link for the subscription; nothing was charged.", hint="Retry.")
    approve_url = created.approve_url

    async def work(uow: UnitOfWork) -> CheckoutView:
        await _supersede_pending(uow)
        subscription = SubscriptionRecord(
            id=new_id("sub"),
            tenant_id=uow.tenant_id,
            plan_id=target.id,
            status="pending",
            provider=PROVIDER,
            provider_subscription_id=created.id,
            current_period_start=uow.now,
            current_period_end=uow.now,
            created_at=uow.now,
            updated_at=uow.now,
        )
        uow.session.add(subscription)
        checkout = _checkout(uow, "subscribe", target, subscription.id, created.id, approve_url, target.price.amount)
        await repo.link_provider_ref(
            uow.session,
            provider_ref=created.id,
            provider=PROVIDER,
            tenant_id=uow.tenant_id,
            kind="subscription",
            now=uow.now,
        )
        await uow.session.flush()
        uow.audit(ACTION, target_type="checkout", target_id=checkout.id, after={"plan": target.id, "kind": "subscribe"})
        first = f"after a {target.trial_days}-day free trial" if target.trial_days else "now"
        return CheckoutView(
            checkout_id=checkout.id,
            kind="subscribe",
            plan=target.id,
            status="pending",
            approve_url=approve_url,
            amount=str(target.price.amount),
            currency=target.price.currency,
            message=f"Send the buyer to approve_url. {target.name} is billed {target.price.amount} "
            f"{target.price.currency} per {target.price.interval}, first charge {first}; the plan applies once "
            "PayPal confirms.",
        )

    return await uow_factory.mutate(
        caller, action=ACTION, arguments=arguments, idempotency_key=idempotency_key, work=work, result_type=CheckoutView
    )


async def _change_plan(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    policy: Policy,
    account: PayPalAccount,
    record: SubscriptionRecord,
    target: Plan,
    nonce: str,
    arguments: dict[str, Any],
    idempotency_key: str | None,
) -> CheckoutView:
    current = policy.catalogue.get(record.plan_id)
    change = plan_change(current, target)
    if change == "same" and record.scheduled_plan_id is None:
        raise Conflict(f"The tenant is already on the {target.name} plan.", field="plan")
    if record.status not in CHANGEABLE:
        raise Conflict(
            f"The plan cannot change while the subscription is {record.status}.",
            hint="Settle the payment in PayPal first; business_get_subscription shows the state.",
        )
    assert record.provider_subscription_id is not None
    amount = Decimal("0.00")
    if change == "upgrade" and record.status == "active":
        amount = prorated_charge(
            current.price,
            target.price,
            period_start=record.current_period_start,
            period_end=record.current_period_end,
            now=uow_factory.clock(),
        )
    if amount > 0:
        order = await account.client.create_order(
            amount=amount,
            currency=target.price.currency,
            custom_id=caller.tenant_id,
            description=f"PromptSales upgrade to {target.name} (prorated)",
            return_url=account.return_url,
            cancel_url=account.cancel_url,
            request_id=request_id(caller.tenant_id, "upgrade", target.id, nonce),
        )
        if not order.approve_url:
            raise Conflict("PayPal returned no approval link for the upgrade; nothing was charged.", hint="Retry.")
        return await _record_upgrade_order(
            uow_factory, caller, record, target, order.id, order.approve_url, amount, arguments, idempotency_key
        )
    # Nothing to pay now (a downgrade, an upgrade during the trial, or the period is over): move the
    # recurring price in PayPal, then record when the new plan applies.
    paypal_plan = await provider_plan_id(uow_factory, account, target)
    revision = await account.client.revise_subscription(
        subscription_id=record.provider_subscription_id,
        plan_id=paypal_plan,
        request_id=request_id(caller.tenant_id, "revise", target.id, nonce),
    )

    async def work(uow: UnitOfWork) -> CheckoutView:
        fresh = await repo.subscription_by_id(uow.session, uow.tenant_id, record.id)
        if fresh is None or fresh.status not in CHANGEABLE:
            raise Conflict("The subscription changed meanwhile; check business_get_subscription and retry.")
        before = {"plan": fresh.plan_id, "scheduled_plan": fresh.scheduled_plan_id}
        immediate = change == "upgrade"
        if immediate:
            fresh.plan_id, fresh.scheduled_plan_id = target.id, None
        else:
            fresh.scheduled_plan_id = None if change == "same" else target.id
        fresh.updated_at = uow.now
        uow.session.add(fresh)
        if revision.approve_url:
            _checkout(
                uow,
                "revise",
                target,
                fresh.id,
                f"rev-{request_id(fresh.id, target.id, nonce)}",
                revision.approve_url,
                Decimal("0.00"),
            )
        await uow.session.flush()
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
            approve_url=revision.approve_url,
            amount="0.00",
            currency=target.price.currency,
            message=f"{target.name} applies {when}; nothing is charged today. "
            + ("Have the buyer approve the new recurring price at approve_url." if revision.approve_url else ""),
        )

    return await uow_factory.mutate(
        caller, action=ACTION, arguments=arguments, idempotency_key=idempotency_key, work=work, result_type=CheckoutView
    )


async def _record_upgrade_order(
    uow_factory: UnitOfWorkFactory,
    caller: Caller,
    record: SubscriptionRecord,
    target: Plan,
    order_id: str,
    approve_url: str,
    amount: Decimal,
    arguments: dict[str, Any],
    idempotency_key: str | None,
) -> CheckoutView:
    async def work(uow: UnitOfWork) -> CheckoutView:
        await _supersede_pending(uow)
        checkout = _checkout(uow, "upgrade", target, record.id, order_id, approve_url, amount)
        await repo.link_provider_ref(
            uow.session, provider_ref=order_id, provider=PROVIDER, tenant_id=uow.tenant_id, kind="order", now=uow.now
        )
        await uow.session.flush()
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
            approve_url=approve_url,
            amount=str(amount),
            currency=target.price.currency,
            message=f"Send the buyer to approve_url to pay {amount} {target.price.currency}, the price difference for "
            f"the rest of the period; {target.name} applies as soon as PayPal confirms the payment.",
        )

    return await uow_factory.mutate(
        caller, action=ACTION, arguments=arguments, idempotency_key=idempotency_key, work=work, result_type=CheckoutView
    )


def _revision_checkout(
    uow: UnitOfWork, plan: Plan, subscription_id: str, approve_url: str, nonce: str
) -> CheckoutRecord:
    """The buyer still has to approve the new recurring price in PayPal (shown as the pending checkout)."""
    ref = f"rev-{request_id(subscription_id, plan.id, nonce)}"
    return _checkout(uow, "revise", plan, subscription_id, ref, approve_url, Decimal("0.00"))


async def record_revision(uow: UnitOfWork, *, plan: Plan, subscription_id: str, approve_url: str) -> CheckoutView:
    """After a paid upgrade: keep the link where the buyer approves the new recurring price."""
    await _supersede_pending(uow)
    checkout = _revision_checkout(uow, plan, subscription_id, approve_url, new_id("rev"))
    await uow.session.flush()
    uow.audit(ACTION, target_type="checkout", target_id=checkout.id, after={"plan": plan.id, "kind": "revise"})
    return CheckoutView(
        checkout_id=checkout.id,
        kind="upgrade",
        plan=plan.id,
        status="pending",
        approve_url=approve_url,
        amount="0.00",
        currency=plan.price.currency,
        message=f"Have the buyer approve the {plan.name} recurring price at approve_url.",
    )


def _checkout(
    uow: UnitOfWork, kind: str, plan: Plan, subscription_id: str, provider_ref: str, approve_url: str, amount: Decimal
) -> CheckoutRecord:
    record = CheckoutRecord(
        id=new_id("co"),
        tenant_id=uow.tenant_id,
        kind=kind,
        plan_id=plan.id,
        subscription_id=subscription_id,
        provider_ref=provider_ref,
        approve_url=approve_url,
        amount=str(amount),
        currency=plan.price.currency,
        status="pending",
        created_at=uow.now,
    )
    uow.session.add(record)
    return record


async def _supersede_pending(uow: UnitOfWork) -> None:
    """Only the latest checkout stays open: an earlier one the buyer never approved is dropped."""
    for old in await repo.pending_checkouts(uow.session, uow.tenant_id):
        old.status = "superseded"
        uow.session.add(old)

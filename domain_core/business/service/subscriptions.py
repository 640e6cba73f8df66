"""Reading the subscription, canceling it (preview, then confirm) and granting one by hand."""

from datetime import datetime, timedelta

from promptsales.domain_core.business.commands import CancelSubscription, GrantSubscription
from promptsales.domain_core.business.dto import CancellationView, SubscriptionView
from promptsales.domain_core.business.model.entitlements import Standing
from promptsales.domain_core.business.provider.account import PROVIDER
from promptsales.domain_core.business.repository import checkouts as checkouts_repo
from promptsales.domain_core.business.repository import subscriptions as subscriptions_repo
from promptsales.domain_core.business.service.standing import Policy, load_standing
from promptsales.domain_core.business.tables import SubscriptionRecord
from promptsales.domain_core.infrastructure import confirmations
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, ValidationFailed

CANCEL_ACTION = "business.cancel_subscription"
PREVIEW_ACTION = "business.cancel_subscription.preview"
GRANT_ACTION = "business.grant_subscription"
CANCELABLE = ("trialing", "active", "past_due", "suspended")


def subscription_view(
    standing: Standing, record: SubscriptionRecord | None, pending_url: str | None
) -> SubscriptionView:
    """The subscription as the tenant sees it now."""
    return SubscriptionView(
        plan=standing.plan.id,
        plan_name=standing.plan.name,
        status=record.status if record is not None else "none",
        access=standing.access,
        reason=standing.reason,
        provider=record.provider if record is not None else None,
        subscription_id=record.id if record is not None else None,
        current_period_start=standing.period_start,
        current_period_end=standing.period_end,
        ends_at=record.current_period_end if record is not None and record.status == "canceled" else None,
        scheduled_plan=record.scheduled_plan_id if record is not None else None,
        pending_checkout_url=pending_url,
    )


async def get_subscription(uow: UnitOfWork, *, policy: Policy) -> SubscriptionView:
    """The tenant's subscription and standing, with the approval link of a checkout still pending."""
    standing, record = await load_standing(uow, policy)
    pending = await checkouts_repo.pending(uow)
    return subscription_view(standing, record, pending[0].approve_url if pending else None)


def _cancel_preview_facts(record: SubscriptionRecord) -> dict[str, object]:
    return {"plan": record.plan_id, "status": record.status, "period_end": record.current_period_end.isoformat()}


async def cancelable_subscription(uow: UnitOfWork) -> SubscriptionRecord:
    """The subscription a cancellation would end, or a clear error when there is none."""
    record = await subscriptions_repo.current(uow)
    if record is None or record.status not in CANCELABLE:
        raise Conflict(
            "There is no active subscription to cancel"
            + (f" (it is {record.status})." if record is not None else "; the tenant is on the default plan."),
            hint="business_get_subscription shows the current state.",
        )
    return record


async def preview_cancellation(uow: UnitOfWork, command: CancelSubscription) -> CancellationView:
    """What canceling would do, with a one-time confirmation token."""
    record = await cancelable_subscription(uow)
    token = await confirmations.issue(
        uow, action=CANCEL_ACTION, target_id=record.id, preview=_cancel_preview_facts(record)
    )
    return CancellationView(
        status="preview",
        subscription_id=record.id,
        plan=record.plan_id,
        ends_at=record.current_period_end,
        refund="0.00",
        confirmation_token=token,
        message=(
            f"Canceling stops renewal of the {record.plan_id} plan. Access stays until "
            f"{record.current_period_end.isoformat()}, then the tenant moves to the default plan; nothing is refunded. "
            "Call business_cancel_subscription again with confirmation_token to cancel."
        ),
    )


def _token(command: CancelSubscription) -> str:
    if command.confirmation_token is None:
        raise ValidationFailed(
            "Canceling needs the preview's confirmation_token.",
            field="confirmation_token",
            hint="Call business_cancel_subscription without it first: the preview returns the token.",
        )
    return command.confirmation_token


async def check_cancellation(uow: UnitOfWork, command: CancelSubscription) -> str | None:
    """Check the token before the provider is told (nothing is spent); the PayPal subscription to stop, if any."""
    record = await cancelable_subscription(uow)
    await confirmations.check(
        uow, _token(command), action=CANCEL_ACTION, target_id=record.id, preview=_cancel_preview_facts(record)
    )
    return record.provider_subscription_id if record.provider == PROVIDER else None


async def confirm_cancellation(uow: UnitOfWork, command: CancelSubscription) -> CancellationView:
    """Spend the token and mark the subscription canceled at the end of its period (the provider was told)."""
    record = await cancelable_subscription(uow)
    await confirmations.consume(
        uow, _token(command), action=CANCEL_ACTION, target_id=record.id, preview=_cancel_preview_facts(record)
    )
    before = {"status": record.status}
    record.status = "canceled"
    record.canceled_at = uow.now
    record.status_changed_at = uow.now
    record.scheduled_plan_id = None
    await subscriptions_repo.save(uow, record)
    # An upgrade or price change not yet approved no longer applies.
    await checkouts_repo.supersede_pending(uow)
    uow.audit(
        CANCEL_ACTION, target_type="subscription", target_id=record.id, before=before, after={"status": "canceled"}
    )
    uow.emit(
        "business.subscription_canceled",
        {"subscription_id": record.id, "ends_at": record.current_period_end.isoformat()},
    )
    return CancellationView(
        status="canceled",
        subscription_id=record.id,
        plan=record.plan_id,
        ends_at=record.current_period_end,
        refund="0.00",
        confirmation_token=None,
        message=f"Canceled. The {record.plan_id} plan stays until {record.current_period_end.isoformat()}.",
    )


async def grant_subscription(
    uow: UnitOfWork, command: GrantSubscription, *, policy: Policy, now: datetime | None = None
) -> SubscriptionView:
    """An operator-granted subscription (no payment provider), e.g. for a demo tenant or a pilot."""
    plan = policy.catalogue.get(command.plan)
    start = now or uow.now
    record = await subscriptions_repo.create(
        uow,
        plan_id=plan.id,
        status=command.status,
        provider="manual",
        period_start=start,
        period_end=start + timedelta(days=command.days),
        status_changed_at=start,
    )
    uow.audit(GRANT_ACTION, target_type="subscription", target_id=record.id, after={"plan": plan.id})
    return await get_subscription(uow, policy=policy)

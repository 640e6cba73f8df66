"""Subscriptions: the tenant's current one, lookups by our id or the provider's, and writes."""

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.business.tables import SubscriptionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.ids import new_id

LIVE_STATUSES = ("trialing", "active", "past_due", "suspended")


async def current(uow: UnitOfWork) -> SubscriptionRecord | None:
    """The tenant's newest subscription that the buyer approved (pending checkouts do not count)."""
    result = await uow.session.execute(
        select(SubscriptionRecord)
        .where(col(SubscriptionRecord.tenant_id) == uow.tenant_id, col(SubscriptionRecord.status) != "pending")
        .order_by(col(SubscriptionRecord.created_at).desc(), col(SubscriptionRecord.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def by_provider_id(uow: UnitOfWork, provider_subscription_id: str) -> SubscriptionRecord | None:
    """The subscription the provider knows as ``provider_subscription_id``."""
    result = await uow.session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == uow.tenant_id,
            col(SubscriptionRecord.provider_subscription_id) == provider_subscription_id,
        )
    )
    return result.scalar_one_or_none()


async def by_id(uow: UnitOfWork, subscription_id: str) -> SubscriptionRecord | None:
    """A subscription by our id."""
    result = await uow.session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == uow.tenant_id, col(SubscriptionRecord.id) == subscription_id
        )
    )
    return result.scalar_one_or_none()


async def live_others(uow: UnitOfWork, *, exclude_id: str) -> list[SubscriptionRecord]:
    """The tenant's other subscriptions that still grant a plan (a new approved one replaces them)."""
    result = await uow.session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == uow.tenant_id,
            col(SubscriptionRecord.id) != exclude_id,
            col(SubscriptionRecord.status).in_(LIVE_STATUSES),
        )
    )
    return list(result.scalars())


async def create(
    uow: UnitOfWork,
    *,
    plan_id: str,
    status: str,
    provider: str,
    period_start: datetime,
    period_end: datetime,
    provider_subscription_id: str | None = None,
    status_changed_at: datetime | None = None,
) -> SubscriptionRecord:
    """A new subscription of the tenant, written now."""
    record = SubscriptionRecord(
        id=new_id("sub"),
        tenant_id=uow.tenant_id,
        plan_id=plan_id,
        status=status,
        provider=provider,
        provider_subscription_id=provider_subscription_id,
        current_period_start=period_start,
        current_period_end=period_end,
        status_changed_at=status_changed_at,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(record)
    await uow.session.flush()
    return record


async def save(uow: UnitOfWork, *records: SubscriptionRecord) -> None:
    """Write changed subscriptions now (stamped as updated)."""
    for record in records:
        record.updated_at = uow.now
        uow.session.add(record)
    await uow.session.flush()

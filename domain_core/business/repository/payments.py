"""Payments PayPal reported: recurring charges and prorated upgrades."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlmodel import col

from promptsales.domain_core.business.tables import PaymentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.ids import new_id


async def exists(uow: UnitOfWork, provider_payment_id: str) -> bool:
    """Whether the provider's payment is already recorded."""
    result = await uow.session.execute(
        select(col(PaymentRecord.id)).where(
            col(PaymentRecord.tenant_id) == uow.tenant_id,
            col(PaymentRecord.provider_payment_id) == provider_payment_id,
        )
    )
    return result.first() is not None


async def create(
    uow: UnitOfWork,
    *,
    provider_payment_id: str,
    subscription_id: str | None,
    kind: str,
    plan_id: str,
    amount: Decimal | str,
    currency: str,
    status: str,
    occurred_at: datetime,
) -> PaymentRecord:
    """Record a payment now."""
    record = PaymentRecord(
        id=new_id("pay"),
        tenant_id=uow.tenant_id,
        provider_payment_id=provider_payment_id[:64],
        subscription_id=subscription_id,
        kind=kind,
        plan_id=plan_id,
        amount=str(amount),
        currency=currency,
        status=status,
        occurred_at=occurred_at,
        created_at=uow.now,
    )
    uow.session.add(record)
    await uow.session.flush()
    return record


async def page(uow: UnitOfWork, *, after: tuple[datetime, str] | None, limit: int) -> list[PaymentRecord]:
    """Payments newest first, keyset-paginated on (occurred_at, id)."""
    query = select(PaymentRecord).where(col(PaymentRecord.tenant_id) == uow.tenant_id)
    if after is not None:
        query = query.where(tuple_(col(PaymentRecord.occurred_at), col(PaymentRecord.id)) < after)
    query = query.order_by(col(PaymentRecord.occurred_at).desc(), col(PaymentRecord.id).desc()).limit(limit)
    return list((await uow.session.execute(query)).scalars())

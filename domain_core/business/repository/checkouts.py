"""Checkouts: payments the buyer still has to approve in PayPal."""

from decimal import Decimal

from sqlalchemy import select, update
from sqlmodel import col

from promptsales.domain_core.business.tables import CheckoutRecord
from promptsales.domain_core.infrastructure import locks
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.ids import new_id


async def by_ref(uow: UnitOfWork, provider_ref: str) -> CheckoutRecord | None:
    """The checkout whose provider object is ``provider_ref``."""
    result = await uow.session.execute(
        select(CheckoutRecord).where(
            col(CheckoutRecord.tenant_id) == uow.tenant_id, col(CheckoutRecord.provider_ref) == provider_ref
        )
    )
    return result.scalar_one_or_none()


async def pending(uow: UnitOfWork) -> list[CheckoutRecord]:
    """The tenant's checkouts still waiting for the buyer, newest first."""
    result = await uow.session.execute(
        select(CheckoutRecord)
        .where(col(CheckoutRecord.tenant_id) == uow.tenant_id, col(CheckoutRecord.status) == "pending")
        .order_by(col(CheckoutRecord.created_at).desc())
    )
    return list(result.scalars())


async def create(
    uow: UnitOfWork,
    *,
    kind: str,
    plan_id: str,
    subscription_id: str,
    provider_ref: str,
    approve_url: str,
    amount: Decimal,
    currency: str,
) -> CheckoutRecord:
    """A new pending checkout, written now."""
    record = CheckoutRecord(
        id=new_id("co"),
        tenant_id=uow.tenant_id,
        kind=kind,
        plan_id=plan_id,
        subscription_id=subscription_id,
        provider_ref=provider_ref,
        approve_url=approve_url,
        amount=str(amount),
        currency=currency,
        status="pending",
        created_at=uow.now,
    )
    uow.session.add(record)
    await uow.session.flush()
    return record


async def supersede_pending(uow: UnitOfWork) -> None:
    """Mark every pending checkout of the tenant superseded (the buyer never approved them).

    Checkouts are recorded one at a time per tenant (the lock is held until commit), so of concurrent
    checkouts only the last stays pending: each supersedes what the ones before it left open.
    """
    await locks.serialize(uow.session, uow.tenant_id, "business.checkout")
    await uow.session.execute(
        update(CheckoutRecord)
        .where(col(CheckoutRecord.tenant_id) == uow.tenant_id, col(CheckoutRecord.status) == "pending")
        .values(status="superseded")
        .execution_options(synchronize_session="fetch")
    )
    await uow.session.flush()


async def close(uow: UnitOfWork, record: CheckoutRecord, status: str) -> None:
    """Settle a checkout (completed or declined) now."""
    record.status, record.completed_at = status, uow.now
    uow.session.add(record)
    await uow.session.flush()

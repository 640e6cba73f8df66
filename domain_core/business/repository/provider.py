"""Provider bookkeeping: which tenant a PayPal object belongs to, and the billing plans created in PayPal."""

from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from promptsales.domain_core.business.tables import ProviderLinkRecord, ProviderPlanRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore


async def link(uow: UnitOfWork, *, provider_ref: str, provider: str, kind: str) -> None:
    """Remember that a provider object belongs to this tenant (idempotent)."""
    await uow.session.execute(
        insert_ignore(uow.session, ProviderLinkRecord).values(
            provider_ref=provider_ref, provider=provider, tenant_id=uow.tenant_id, kind=kind, created_at=uow.now
        )
    )
    await uow.session.flush()


async def tenant_of(uow: UnitOfWork, provider_ref: str) -> str | None:
    """The tenant a provider object belongs to, whatever tenant the transaction is for (ids only).

    On Postgres the links are under RLS like every tenant table; a SECURITY DEFINER function answers this
    one question across tenants.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        result = await uow.session.execute(text("SELECT promptsales_provider_ref_tenant(:ref)"), {"ref": provider_ref})
    else:
        result = await uow.session.execute(
            select(col(ProviderLinkRecord.tenant_id)).where(col(ProviderLinkRecord.provider_ref) == provider_ref)
        )
    tenant = result.scalar_one_or_none()
    return str(tenant) if tenant is not None else None


async def plan(uow: UnitOfWork, *, account: str, plan_key: str) -> ProviderPlanRecord | None:
    """The provider billing plan already created for ``plan_key`` on ``account`` (global, no tenant)."""
    result = await uow.session.execute(
        select(ProviderPlanRecord).where(
            col(ProviderPlanRecord.account) == account, col(ProviderPlanRecord.plan_key) == plan_key
        )
    )
    return result.scalar_one_or_none()


async def remember_plan(
    uow: UnitOfWork,
    *,
    account: str,
    plan_key: str,
    provider_product_id: str,
    provider_plan_id: str,
    details: dict[str, Any],
) -> None:
    """Keep a created billing plan (a replica that created it first wins; both point at the same PayPal plan)."""
    await uow.session.execute(
        insert_ignore(uow.session, ProviderPlanRecord).values(
            account=account,
            plan_key=plan_key,
            provider_product_id=provider_product_id,
            provider_plan_id=provider_plan_id,
            details=details,
            created_at=uow.now,
        )
    )
    await uow.session.flush()

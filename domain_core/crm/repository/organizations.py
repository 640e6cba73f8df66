"""Organizations: read by id or natural key (domain, else name), race-safe insert, search."""

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlmodel import col

from promptsales.domain_core.crm.repository.rows import insert_if_absent, like_pattern
from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, org_id: str) -> OrganizationRecord | None:
    """One organization by id."""
    query = select(OrganizationRecord).where(
        col(OrganizationRecord.tenant_id) == uow.tenant_id, col(OrganizationRecord.id) == org_id
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def with_natural_key(uow: UnitOfWork, *, name_key: str, domain: str | None) -> OrganizationRecord | None:
    """The organization holding this natural key: the domain when given, else the name among those without one."""
    query = select(OrganizationRecord).where(col(OrganizationRecord.tenant_id) == uow.tenant_id)
    if domain:
        query = query.where(col(OrganizationRecord.domain) == domain)
    else:
        query = query.where(col(OrganizationRecord.domain).is_(None), col(OrganizationRecord.name_key) == name_key)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def for_company(uow: UnitOfWork, *, name_key: str, domain: str | None) -> OrganizationRecord | None:
    """The organization a captured company belongs to: same domain, else same name (oldest first)."""
    conditions = [col(OrganizationRecord.name_key) == name_key]
    if domain:
        conditions.insert(0, col(OrganizationRecord.domain) == domain)
    rows: Sequence[OrganizationRecord] = (
        (
            await uow.session.execute(
                select(OrganizationRecord)
                .where(col(OrganizationRecord.tenant_id) == uow.tenant_id, or_(*conditions))
                .order_by(col(OrganizationRecord.id))
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    by_domain = next((row for row in rows if domain and row.domain == domain), None)
    return by_domain or (rows[0] if rows else None)


async def insert_new(uow: UnitOfWork, record: OrganizationRecord) -> OrganizationRecord | None:
    """Insert ``record``; None when its domain (or, without one, its name) is taken — then read that one."""
    return await insert_if_absent(uow, record)


async def save(uow: UnitOfWork, record: OrganizationRecord) -> None:
    """Write changes to a loaded organization now."""
    uow.session.add(record)
    await uow.session.flush()


async def search(
    uow: UnitOfWork, *, text: str | None, domain: str | None, after_id: str | None, limit: int
) -> Sequence[OrganizationRecord]:
    """Organizations whose name or domain contains ``text`` (and with exactly ``domain``), in id order."""
    query = select(OrganizationRecord).where(col(OrganizationRecord.tenant_id) == uow.tenant_id)
    if text:
        pattern = like_pattern(text)
        query = query.where(
            or_(
                func.lower(col(OrganizationRecord.name)).like(pattern, escape="\\"),
                col(OrganizationRecord.domain).like(pattern, escape="\\"),
            )
        )
    if domain:
        query = query.where(col(OrganizationRecord.domain) == domain)
    if after_id:
        query = query.where(col(OrganizationRecord.id) > after_id)
    return (await uow.session.execute(query.order_by(col(OrganizationRecord.id)).limit(limit))).scalars().all()

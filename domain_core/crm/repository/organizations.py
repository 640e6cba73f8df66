"""Organizations: read by id, domain (the natural key) or folded name; race-safe insert; search."""

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlmodel import col

from promptsales.domain_core.crm.repository.rows import insert_if_absent, like_pattern
from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure import locks
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, org_id: str) -> OrganizationRecord | None:
    """One organization by id."""
    query = select(OrganizationRecord).where(
        col(OrganizationRecord.tenant_id) == uow.tenant_id, col(OrganizationRecord.id) == org_id
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def with_domain(uow: UnitOfWork, domain: str) -> OrganizationRecord | None:
    """The organization holding this web domain (the natural key)."""
    query = select(OrganizationRecord).where(
        col(OrganizationRecord.tenant_id) == uow.tenant_id, col(OrganizationRecord.domain) == domain
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def lock_name(uow: UnitOfWork, name_key: str) -> None:
    """Serialize find-or-create of one company name in this tenant until the unit ends.

    Names are not unique, so no index can stop two concurrent captures of a new "Acme" from both creating
    it; a transaction-scoped advisory lock on the folded name does (SQLite runs one writer at a time).
    Taken before any row lock, so it adds nothing to the lock order.
    """
    await locks.serialize(uow.session, uow.tenant_id, f"crm.organization:{name_key}")


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
    """Insert ``record``; None when its domain is taken (then read that organization)."""
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

"""Segments: saved rules, and their members evaluated in SQL."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.crm.model.segments import SegmentGroup
from promptsales.domain_core.crm.repository.rows import insert_if_absent
from promptsales.domain_core.crm.segment_query import segment_count_query, segment_members_query, segment_predicate
from promptsales.domain_core.crm.tables import ContactRecord, SegmentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, segment_id: str) -> SegmentRecord | None:
    """One segment by id."""
    query = select(SegmentRecord).where(
        col(SegmentRecord.tenant_id) == uow.tenant_id, col(SegmentRecord.id) == segment_id
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def named(uow: UnitOfWork, name: str) -> SegmentRecord | None:
    """One segment by its unique name."""
    query = select(SegmentRecord).where(col(SegmentRecord.tenant_id) == uow.tenant_id, col(SegmentRecord.name) == name)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def insert_new(uow: UnitOfWork, record: SegmentRecord) -> SegmentRecord | None:
    """Insert ``record``; None when its name is taken."""
    return await insert_if_absent(uow, record)


async def all_by_name(uow: UnitOfWork, *, limit: int) -> Sequence[SegmentRecord]:
    """The tenant's segments by name."""
    query = (
        select(SegmentRecord)
        .where(col(SegmentRecord.tenant_id) == uow.tenant_id)
        .order_by(col(SegmentRecord.name))
        .limit(limit)
    )
    return (await uow.session.execute(query)).scalars().all()


async def count(uow: UnitOfWork, rule: SegmentGroup) -> int:
    """How many contacts the rule selects now."""
    return int(
        (await uow.session.execute(segment_count_query(rule, tenant_id=uow.tenant_id, now=uow.now))).scalar_one()
    )


async def members(uow: UnitOfWork, rule: SegmentGroup, *, after_id: str | None, limit: int) -> Sequence[ContactRecord]:
    """Contacts the rule selects now, in id order after ``after_id``."""
    query = segment_members_query(rule, tenant_id=uow.tenant_id, now=uow.now, after_id=after_id, limit=limit)
    return (await uow.session.execute(query)).scalars().all()


async def includes(uow: UnitOfWork, rule: SegmentGroup, contact_id: str) -> bool:
    """Whether the rule selects this contact now (one indexed query)."""
    hit = await uow.session.execute(
        select(col(ContactRecord.id))
        .where(segment_predicate(rule, tenant_id=uow.tenant_id, now=uow.now), col(ContactRecord.id) == contact_id)
        .limit(1)
    )
    return hit.first() is not None

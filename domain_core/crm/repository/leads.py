"""Leads and their touches: read and lock, write, list with filters, touch statistics."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import col

from promptsales.domain_core.crm.model.segments import SegmentGroup
from promptsales.domain_core.crm.repository.rows import column_values
from promptsales.domain_core.crm.segment_query import segment_predicate
from promptsales.domain_core.crm.tables import ContactRecord, LeadRecord, LeadTouchRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, lead_id: str, *, for_update: bool = False) -> LeadRecord | None:
    """One lead by id."""
    query = select(LeadRecord).where(col(LeadRecord.tenant_id) == uow.tenant_id, col(LeadRecord.id) == lead_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def of_contact(uow: UnitOfWork, contact_id: str, *, for_update: bool = False) -> Sequence[LeadRecord]:
    """A contact's leads, newest first (locked when the caller will change them; lock the contact first)."""
    query = (
        select(LeadRecord)
        .where(col(LeadRecord.tenant_id) == uow.tenant_id, col(LeadRecord.contact_id) == contact_id)
        .order_by(col(LeadRecord.id).desc())
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.execute(query)).scalars().all()


async def add(uow: UnitOfWork, lead: LeadRecord) -> None:
    """Insert a new lead now, as it is: the unit of work does not track it, so later changes are not written."""
    # A Core insert: a unit-of-work flush costs more than the statement itself on the capture path (issue 13).
    await uow.session.execute(insert(LeadRecord).values(**column_values(lead)))


async def save(uow: UnitOfWork, lead: LeadRecord) -> None:
    """Write changes to a loaded lead now."""
    uow.session.add(lead)
    await uow.session.flush()


async def add_touch(
    uow: UnitOfWork,
    *,
    touch_id: str,
    lead_id: str,
    source_channel: str,
    campaign_ref: str | None,
    utm: dict[str, Any],
    referrer: str | None,
    landing_page: str | None,
    occurred_at: datetime,
) -> None:
    """Append one touch to a lead's history."""
    await uow.session.execute(
        insert(LeadTouchRecord).values(
            id=touch_id,
            tenant_id=uow.tenant_id,
            lead_id=lead_id,
            source_channel=source_channel,
            campaign_ref=campaign_ref,
            utm=utm,
            referrer=referrer,
            landing_page=landing_page,
            occurred_at=occurred_at,
        )
    )


async def touch_stats(uow: UnitOfWork, lead_id: str) -> tuple[int, list[str]]:
    """Number of touches and distinct source channels of a lead."""
    rows = await uow.session.execute(
        select(col(LeadTouchRecord.source_channel), func.count())
        .where(col(LeadTouchRecord.tenant_id) == uow.tenant_id, col(LeadTouchRecord.lead_id) == lead_id)
        .group_by(col(LeadTouchRecord.source_channel))
    )
    counts = dict(rows.tuples().all())
    return sum(counts.values()), sorted(counts)


async def page(
    uow: UnitOfWork,
    *,
    filters: dict[str, Any],
    segment: SegmentGroup | None,
    after_id: str | None,
    limit: int,
) -> Sequence[tuple[LeadRecord, ContactRecord]]:
    """Leads with their contact, filtered (and within a segment), newest first (keyset on id descending)."""
    query = (
        select(LeadRecord, ContactRecord)
        .join(
            ContactRecord,
            (col(ContactRecord.tenant_id) == col(LeadRecord.tenant_id))
            & (col(ContactRecord.id) == col(LeadRecord.contact_id)),
        )
        .where(col(LeadRecord.tenant_id) == uow.tenant_id)
    )
    simple = {"stage": LeadRecord.stage, "source": LeadRecord.source_channel, "owner": LeadRecord.owner}
    for name, column in simple.items():
        if filters.get(name) is not None:
            query = query.where(col(column) == filters[name])
    if filters.get("min_score") is not None:
        query = query.where(col(LeadRecord.score) >= filters["min_score"])
    if filters.get("max_score") is not None:
        query = query.where(col(LeadRecord.score) <= filters["max_score"])
    if filters.get("created_from") is not None:
        query = query.where(col(LeadRecord.created_at) >= filters["created_from"])
    if filters.get("created_to") is not None:
        query = query.where(col(LeadRecord.created_at) < filters["created_to"])
    if segment is not None:
        members = select(col(ContactRecord.id)).where(segment_predicate(segment, tenant_id=uow.tenant_id, now=uow.now))
        query = query.where(col(LeadRecord.contact_id).in_(members))
    if after_id:
        query = query.where(col(LeadRecord.id) < after_id)
    rows = await uow.session.execute(query.order_by(col(LeadRecord.id).desc()).limit(limit))
    return [(lead, contact) for lead, contact in rows.tuples()]

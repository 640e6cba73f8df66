"""CRM queries. Every function filters by tenant (RLS is the second guard, not the first)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.crm.tables import (
    ConsentEventRecord,
    ContactRecord,
    ContactTagRecord,
    FlowDefinitionRecord,
    FlowRunRecord,
    InteractionRecord,
    LeadRecord,
    LeadTouchRecord,
    OrganizationRecord,
    ScoringRulesRecord,
    SegmentRecord,
)


def _like(text: str) -> str:
    """A case-insensitive LIKE pattern for a substring, with wildcards in user text escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def get_organization(session: AsyncSession, tenant_id: str, org_id: str) -> OrganizationRecord | None:
    """One organization by id."""
    return (
        await session.execute(
            select(OrganizationRecord).where(
                col(OrganizationRecord.tenant_id) == tenant_id, col(OrganizationRecord.id) == org_id
            )
        )
    ).scalar_one_or_none()


async def find_organization(
    session: AsyncSession, tenant_id: str, *, name: str, domain: str | None
) -> OrganizationRecord | None:
    """An organization with the same domain, else the same name (case-insensitive)."""
    conditions = [func.lower(col(OrganizationRecord.name)) == name.lower()]
    if domain:
        conditions.insert(0, col(OrganizationRecord.domain) == domain)
    rows: Sequence[OrganizationRecord] = (
        (
            await session.execute(
                select(OrganizationRecord)
                .where(col(OrganizationRecord.tenant_id) == tenant_id, or_(*conditions))
                .order_by(col(OrganizationRecord.id))
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    if domain:
        for row in rows:
            if row.domain == domain:
                return row
    return rows[0] if rows else None


async def get_contact(
    session: AsyncSession, tenant_id: str, contact_id: str, *, for_update: bool = False
) -> ContactRecord | None:
    """One contact by id (merged contacts included; callers follow merged_into_id)."""
    query = select(ContactRecord).where(col(ContactRecord.tenant_id) == tenant_id, col(ContactRecord.id) == contact_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_contact(
    session: AsyncSession, tenant_id: str, *, email: str | None, phone: str | None
) -> ContactRecord | None:
    """The active contact with this normalized email, else this phone."""
    for column, value in ((ContactRecord.email, email), (ContactRecord.phone, phone)):
        if value is None:
            continue
        found: ContactRecord | None = (
            await session.execute(
                select(ContactRecord)
                .where(
                    col(ContactRecord.tenant_id) == tenant_id,
                    col(column) == value,
                    col(ContactRecord.merged_into_id).is_(None),
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


async def tags_by_contact(session: AsyncSession, tenant_id: str, contact_ids: Sequence[str]) -> dict[str, list[str]]:
    """Tags of each contact, sorted."""
    result: dict[str, list[str]] = {cid: [] for cid in contact_ids}
    if not contact_ids:
        return result
    rows = await session.execute(
        select(col(ContactTagRecord.contact_id), col(ContactTagRecord.tag))
        .where(col(ContactTagRecord.tenant_id) == tenant_id, col(ContactTagRecord.contact_id).in_(contact_ids))
        .order_by(col(ContactTagRecord.tag))
    )
    for contact_id, tag in rows:
        result[contact_id].append(tag)
    return result


async def replace_tags(session: AsyncSession, tenant_id: str, contact_id: str, tags: Sequence[str]) -> None:
    """Set a contact's tags to exactly ``tags``."""
    await session.execute(
        delete(ContactTagRecord).where(
            col(ContactTagRecord.tenant_id) == tenant_id, col(ContactTagRecord.contact_id) == contact_id
        )
    )
    for tag in sorted(set(tags)):
        session.add(ContactTagRecord(tenant_id=tenant_id, contact_id=contact_id, tag=tag))


async def consent_sources(session: AsyncSession, tenant_id: str, contact_id: str) -> dict[str, ConsentEventRecord]:
    """The latest consent event per channel."""
    rows = (
        (
            await session.execute(
                select(ConsentEventRecord)
                .where(
                    col(ConsentEventRecord.tenant_id) == tenant_id,
                    col(ConsentEventRecord.contact_id) == contact_id,
                )
                .order_by(col(ConsentEventRecord.recorded_at), col(ConsentEventRecord.id))
            )
        )
        .scalars()
        .all()
    )
    return {row.channel: row for row in rows}


async def search_contacts(
    session: AsyncSession,
    tenant_id: str,
    *,
    text: str | None,
    filters: dict[str, Any],
    after_id: str | None,
    limit: int,
) -> Sequence[ContactRecord]:
    """Active contacts matching a free-text query and exact filters, ordered by id."""
    query = select(ContactRecord).where(
        col(ContactRecord.tenant_id) == tenant_id, col(ContactRecord.merged_into_id).is_(None)
    )
    if text:
        pattern = _like(text)
        query = query.where(
            or_(
                func.lower(col(ContactRecord.first_name)).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.last_name)).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.email)).like(pattern, escape="\\"),
                col(ContactRecord.phone).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.title)).like(pattern, escape="\\"),
            )
        )
    if filters.get("organization_id"):
        query = query.where(col(ContactRecord.organization_id) == filters["organization_id"])
    if filters.get("country"):
        query = query.where(col(ContactRecord.country) == filters["country"])
    if filters.get("owner"):
        query = query.where(col(ContactRecord.owner) == filters["owner"])
    if filters.get("tag"):
        query = query.where(
            select(col(ContactTagRecord.tag))
            .where(
                col(ContactTagRecord.tenant_id) == tenant_id,
                col(ContactTagRecord.contact_id) == ContactRecord.id,
                col(ContactTagRecord.tag) == filters["tag"],
            )
            .exists()
        )
    if after_id:
        query = query.where(col(ContactRecord.id) > after_id)
    return (await session.execute(query.order_by(col(ContactRecord.id)).limit(limit))).scalars().all()


async def get_lead(
    session: AsyncSession, tenant_id: str, lead_id: str, *, for_update: bool = False
) -> LeadRecord | None:
    """One lead by id."""
    query = select(LeadRecord).where(col(LeadRecord.tenant_id) == tenant_id, col(LeadRecord.id) == lead_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def leads_of_contact(session: AsyncSession, tenant_id: str, contact_id: str) -> Sequence[LeadRecord]:
    """A contact's leads, newest first."""
    return (
        (
            await session.execute(
                select(LeadRecord)
                .where(col(LeadRecord.tenant_id) == tenant_id, col(LeadRecord.contact_id) == contact_id)
                .order_by(col(LeadRecord.id).desc())
            )
        )
        .scalars()
        .all()
    )


async def list_leads(
    session: AsyncSession,
    tenant_id: str,
    *,
    filters: dict[str, Any],
    segment_contacts: Any | None,
    after_id: str | None,
    limit: int,
) -> Sequence[tuple[LeadRecord, ContactRecord]]:
    """Leads with their contact, filtered, newest first (keyset on id descending)."""
    query = (
        select(LeadRecord, ContactRecord)
        .join(
            ContactRecord,
            (col(ContactRecord.tenant_id) == col(LeadRecord.tenant_id))
            & (col(ContactRecord.id) == col(LeadRecord.contact_id)),
        )
        .where(col(LeadRecord.tenant_id) == tenant_id)
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
    if segment_contacts is not None:
        query = query.where(col(LeadRecord.contact_id).in_(segment_contacts))
    if after_id:
        query = query.where(col(LeadRecord.id) < after_id)
    rows = await session.execute(query.order_by(col(LeadRecord.id).desc()).limit(limit))
    return [(lead, contact) for lead, contact in rows.tuples()]


async def touch_stats(session: AsyncSession, tenant_id: str, lead_id: str) -> tuple[int, list[str]]:
    """Number of touches and distinct source channels of a lead."""
    rows = await session.execute(
        select(col(LeadTouchRecord.source_channel), func.count())
        .where(col(LeadTouchRecord.tenant_id) == tenant_id, col(LeadTouchRecord.lead_id) == lead_id)
        .group_by(col(LeadTouchRecord.source_channel))
    )
    counts = dict(rows.tuples().all())
    return sum(counts.values()), sorted(counts)


async def interaction_stats(session: AsyncSession, tenant_id: str, contact_id: str) -> tuple[int, int]:
    """Total and inbound interactions of a contact."""
    rows = await session.execute(
        select(col(InteractionRecord.direction), func.count())
        .where(col(InteractionRecord.tenant_id) == tenant_id, col(InteractionRecord.contact_id) == contact_id)
        .group_by(col(InteractionRecord.direction))
    )
    counts = dict(rows.tuples().all())
    return sum(counts.values()), counts.get("inbound", 0)


async def latest_signals(session: AsyncSession, tenant_id: str, contact_id: str) -> tuple[str | None, str | None]:
    """Intent and sentiment of a contact's latest analysed interaction."""
    row = (
        await session.execute(
            select(col(InteractionRecord.intent), col(InteractionRecord.sentiment))
            .where(
                col(InteractionRecord.tenant_id) == tenant_id,
                col(InteractionRecord.contact_id) == contact_id,
                col(InteractionRecord.intent).is_not(None),
            )
            .order_by(col(InteractionRecord.occurred_at).desc(), col(InteractionRecord.id).desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def timeline(
    session: AsyncSession,
    tenant_id: str,
    contact_id: str,
    *,
    before: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[InteractionRecord]:
    """A contact's interactions, newest first, keyset on (occurred_at, id)."""
    query = select(InteractionRecord).where(
        col(InteractionRecord.tenant_id) == tenant_id, col(InteractionRecord.contact_id) == contact_id
    )
    if before is not None:
        at, last_id = before
        query = query.where(
            or_(
                col(InteractionRecord.occurred_at) < at,
                (col(InteractionRecord.occurred_at) == at) & (col(InteractionRecord.id) < last_id),
            )
        )
    query = query.order_by(col(InteractionRecord.occurred_at).desc(), col(InteractionRecord.id).desc())
    return (await session.execute(query.limit(limit))).scalars().all()


async def get_segment(session: AsyncSession, tenant_id: str, segment_id: str) -> SegmentRecord | None:
    """One segment by id."""
    return (
        await session.execute(
            select(SegmentRecord).where(col(SegmentRecord.tenant_id) == tenant_id, col(SegmentRecord.id) == segment_id)
        )
    ).scalar_one_or_none()


async def segment_by_name(session: AsyncSession, tenant_id: str, name: str) -> SegmentRecord | None:
    """One segment by its unique name."""
    return (
        await session.execute(
            select(SegmentRecord).where(col(SegmentRecord.tenant_id) == tenant_id, col(SegmentRecord.name) == name)
        )
    ).scalar_one_or_none()


async def list_segments(session: AsyncSession, tenant_id: str, *, limit: int) -> Sequence[SegmentRecord]:
    """The tenant's segments by name."""
    return (
        (
            await session.execute(
                select(SegmentRecord)
                .where(col(SegmentRecord.tenant_id) == tenant_id)
                .order_by(col(SegmentRecord.name))
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def scoring_rules(session: AsyncSession, tenant_id: str) -> ScoringRulesRecord | None:
    """The tenant's scoring rules override, if any."""
    return await session.get(ScoringRulesRecord, tenant_id)


async def flow_definition(session: AsyncSession, tenant_id: str, flow_id: str) -> FlowDefinitionRecord | None:
    """A tenant-defined flow."""
    return await session.get(FlowDefinitionRecord, (tenant_id, flow_id))


async def list_flow_definitions(session: AsyncSession, tenant_id: str) -> Sequence[FlowDefinitionRecord]:
    """Every tenant-defined flow."""
    return (
        (
            await session.execute(
                select(FlowDefinitionRecord)
                .where(col(FlowDefinitionRecord.tenant_id) == tenant_id)
                .order_by(col(FlowDefinitionRecord.flow_id))
            )
        )
        .scalars()
        .all()
    )


async def get_flow_run(session: AsyncSession, tenant_id: str, run_id: str) -> FlowRunRecord | None:
    """One flow run, locked for the turn being applied."""
    return (
        await session.execute(
            select(FlowRunRecord)
            .where(col(FlowRunRecord.tenant_id) == tenant_id, col(FlowRunRecord.id) == run_id)
            .with_for_update()
        )
    ).scalar_one_or_none()

"""Campaigns queries and writes; every one scoped to the unit of work's tenant. Writes reach the database at once."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import col

from promptsales.domain_core.campaigns.tables import (
    CampaignRecord,
    ChangeRecord,
    PlatformObjectRecord,
    SpendCapsRecord,
    TouchRecord,
    TransitionRecord,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore


async def save(uow: UnitOfWork, record: Any) -> None:
    """Write a new or changed record now."""
    uow.session.add(record)
    await uow.session.flush()


async def remove(uow: UnitOfWork, record: Any) -> None:
    """Delete a loaded record now."""
    await uow.session.delete(record)
    await uow.session.flush()


# ---------------------------------------------------------------------------------------------- campaigns


async def campaign(uow: UnitOfWork, campaign_id: str, *, for_update: bool = False) -> CampaignRecord | None:
    """The tenant's campaign (locked for the transaction with ``for_update``)."""
    query = select(CampaignRecord).where(
        col(CampaignRecord.tenant_id) == uow.tenant_id, col(CampaignRecord.id) == campaign_id
    )
    if for_update:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def campaigns_page(
    uow: UnitOfWork, *, status: str | None, before_id: str | None, limit: int
) -> list[CampaignRecord]:
    """Campaigns newest first (ids are time-ordered), after a cursor position."""
    query = select(CampaignRecord).where(col(CampaignRecord.tenant_id) == uow.tenant_id)
    if status is not None:
        query = query.where(col(CampaignRecord.status) == status)
    if before_id is not None:
        query = query.where(col(CampaignRecord.id) < before_id)
    result = await uow.session.execute(query.order_by(col(CampaignRecord.id).desc()).limit(limit))
    return list(result.scalars())


async def live_campaigns(uow: UnitOfWork, *, excluding: str | None = None) -> list[CampaignRecord]:
    """The tenant's campaigns whose platform objects may spend (scheduled, active, paused)."""
    query = select(CampaignRecord).where(
        col(CampaignRecord.tenant_id) == uow.tenant_id,
        col(CampaignRecord.status).in_(("scheduled", "active", "paused")),
    )
    if excluding is not None:
        query = query.where(col(CampaignRecord.id) != excluding)
    return list((await uow.session.execute(query)).scalars())


async def campaigns_in_status(
    uow: UnitOfWork, statuses: Sequence[str], *, ids: Sequence[str] | None = None, limit: int = 200
) -> list[CampaignRecord]:
    """The tenant's campaigns in ``statuses`` (optionally only ``ids``), newest first."""
    query = select(CampaignRecord).where(
        col(CampaignRecord.tenant_id) == uow.tenant_id, col(CampaignRecord.status).in_(tuple(statuses))
    )
    if ids is not None:
        query = query.where(col(CampaignRecord.id).in_(tuple(ids)))
    result = await uow.session.execute(query.order_by(col(CampaignRecord.id).desc()).limit(limit))
    return list(result.scalars())


# ---------------------------------------------------------------------------------------------- history


async def add_transition(uow: UnitOfWork, record: TransitionRecord) -> None:
    """Record a lifecycle step."""
    await save(uow, record)


async def transitions(uow: UnitOfWork, campaign_id: str, *, limit: int) -> list[TransitionRecord]:
    """A campaign's latest lifecycle steps first."""
    result = await uow.session.execute(
        select(TransitionRecord)
        .where(col(TransitionRecord.tenant_id) == uow.tenant_id, col(TransitionRecord.campaign_id) == campaign_id)
        .order_by(col(TransitionRecord.at).desc(), col(TransitionRecord.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def changes(uow: UnitOfWork, campaign_id: str, *, limit: int) -> list[ChangeRecord]:
    """A campaign's latest changes first."""
    result = await uow.session.execute(
        select(ChangeRecord)
        .where(col(ChangeRecord.tenant_id) == uow.tenant_id, col(ChangeRecord.campaign_id) == campaign_id)
        .order_by(col(ChangeRecord.at).desc(), col(ChangeRecord.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def change(uow: UnitOfWork, change_id: str, *, for_update: bool = False) -> ChangeRecord | None:
    """One change of the tenant."""
    query = select(ChangeRecord).where(col(ChangeRecord.tenant_id) == uow.tenant_id, col(ChangeRecord.id) == change_id)
    if for_update:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------- platform objects


async def objects(uow: UnitOfWork, campaign_id: str) -> list[PlatformObjectRecord]:
    """Everything activation made for a campaign, in creation order."""
    result = await uow.session.execute(
        select(PlatformObjectRecord)
        .where(
            col(PlatformObjectRecord.tenant_id) == uow.tenant_id, col(PlatformObjectRecord.campaign_id) == campaign_id
        )
        .order_by(col(PlatformObjectRecord.id))
    )
    return list(result.scalars())


async def claim_object(uow: UnitOfWork, record: PlatformObjectRecord) -> PlatformObjectRecord:
    """The campaign's object with the record's key: inserted when new, else the one stored (a retried activation
    continues with what an earlier attempt made)."""
    await uow.session.execute(insert_ignore(uow.session, PlatformObjectRecord).values(**record.model_dump()))
    result = await uow.session.execute(
        select(PlatformObjectRecord).where(
            col(PlatformObjectRecord.tenant_id) == uow.tenant_id,
            col(PlatformObjectRecord.campaign_id) == record.campaign_id,
            col(PlatformObjectRecord.local_key) == record.local_key,
        )
    )
    stored: PlatformObjectRecord = result.scalar_one()
    return stored


async def object_by_id(uow: UnitOfWork, object_id: str) -> PlatformObjectRecord | None:
    """One platform object of the tenant."""
    result = await uow.session.execute(
        select(PlatformObjectRecord).where(
            col(PlatformObjectRecord.tenant_id) == uow.tenant_id, col(PlatformObjectRecord.id) == object_id
        )
    )
    return result.scalar_one_or_none()


# ---------------------------------------------------------------------------------------------- spend caps


async def spend_caps(uow: UnitOfWork, *, for_update: bool = False) -> SpendCapsRecord | None:
    """The tenant's caps row (locked with ``for_update``: budget commitments of one tenant queue on it)."""
    query = select(SpendCapsRecord).where(col(SpendCapsRecord.tenant_id) == uow.tenant_id)
    if for_update:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def ensure_spend_caps(uow: UnitOfWork, defaults: SpendCapsRecord) -> SpendCapsRecord:
    """The tenant's caps row, created with ``defaults`` when missing, locked for this transaction."""
    await uow.session.execute(insert_ignore(uow.session, SpendCapsRecord).values(**defaults.model_dump()))
    found = await spend_caps(uow, for_update=True)
    assert found is not None
    return found


# ---------------------------------------------------------------------------------------------- touches


async def add_touch(uow: UnitOfWork, record: TouchRecord) -> None:
    """Record a lead captured through a tracking link (an event seen twice adds nothing)."""
    await uow.session.execute(insert_ignore(uow.session, TouchRecord).values(**record.model_dump()))


async def touch_counts(uow: UnitOfWork, campaign_id: str) -> Sequence[tuple[str | None, int, int]]:
    """Per channel: leads captured through the campaign's links, and how many were new people."""
    result = await uow.session.execute(
        select(
            col(TouchRecord.channel),
            func.count(),
            func.sum(case((col(TouchRecord.new_person), 1), else_=0)),
        )
        .where(col(TouchRecord.tenant_id) == uow.tenant_id, col(TouchRecord.campaign_id) == campaign_id)
        .group_by(col(TouchRecord.channel))
    )
    return [(row[0], int(row[1]), int(row[2] or 0)) for row in result.all()]


async def campaign_exists(uow: UnitOfWork, campaign_id: str) -> bool:
    """Whether the tenant has this campaign."""
    result = await uow.session.execute(
        select(col(CampaignRecord.id)).where(
            col(CampaignRecord.tenant_id) == uow.tenant_id, col(CampaignRecord.id) == campaign_id
        )
    )
    return result.first() is not None

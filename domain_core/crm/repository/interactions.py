"""Interactions: write, statistics for scoring, the timeline."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlmodel import col

from promptsales.domain_core.crm.tables import InteractionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def add(uow: UnitOfWork, record: InteractionRecord) -> None:
    """Insert an interaction now."""
    uow.session.add(record)
    await uow.session.flush()


async def stats(uow: UnitOfWork, contact_id: str) -> tuple[int, int]:
    """Total and inbound interactions of a contact."""
    rows = await uow.session.execute(
        select(col(InteractionRecord.direction), func.count())
        .where(col(InteractionRecord.tenant_id) == uow.tenant_id, col(InteractionRecord.contact_id) == contact_id)
        .group_by(col(InteractionRecord.direction))
    )
    counts = dict(rows.tuples().all())
    return sum(counts.values()), counts.get("inbound", 0)


async def latest_signals(uow: UnitOfWork, contact_id: str) -> tuple[str | None, str | None]:
    """Intent and sentiment of a contact's latest analysed interaction."""
    row = (
        await uow.session.execute(
            select(col(InteractionRecord.intent), col(InteractionRecord.sentiment))
            .where(
                col(InteractionRecord.tenant_id) == uow.tenant_id,
                col(InteractionRecord.contact_id) == contact_id,
                col(InteractionRecord.intent).is_not(None),
            )
            .order_by(col(InteractionRecord.occurred_at).desc(), col(InteractionRecord.id).desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def timeline(
    uow: UnitOfWork, contact_id: str, *, before: tuple[datetime, str] | None, limit: int
) -> Sequence[InteractionRecord]:
    """A contact's interactions, newest first, keyset on (occurred_at, id)."""
    query = select(InteractionRecord).where(
        col(InteractionRecord.tenant_id) == uow.tenant_id, col(InteractionRecord.contact_id) == contact_id
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
    return (await uow.session.execute(query.limit(limit))).scalars().all()

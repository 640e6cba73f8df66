"""Usage counters and seats: what a tenant used of each quota per period."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from promptsales.domain_core.business.tables import SeatRecord, UsageRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore


def _dialect(uow: UnitOfWork) -> Any:
    return postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite


async def add(uow: UnitOfWork, *, quota: str, period_start: datetime, amount: int, limit: int | None) -> int | None:
    """Add ``amount`` to a counter unless that passes ``limit``; the new total, or None when refused.

    One INSERT … ON CONFLICT DO UPDATE … WHERE: the row lock makes concurrent callers queue, and each sees
    the total left by the one before, so together they can never pass the limit.
    """
    if limit is not None and amount > limit:
        return None
    statement = (
        _dialect(uow)
        .insert(UsageRecord)
        .values(tenant_id=uow.tenant_id, quota=quota, period_start=period_start, used=amount, updated_at=uow.now)
    )
    new_total = UsageRecord.__table__.c.used + statement.excluded.used  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "quota", "period_start"],
        set_={"used": new_total, "updated_at": statement.excluded.updated_at},
        where=(new_total <= limit) if limit is not None else None,
    ).returning(UsageRecord.__table__.c.used)  # type: ignore[attr-defined]
    row = (await uow.session.execute(statement)).first()
    return int(row[0]) if row is not None else None


async def release(uow: UnitOfWork, *, quota: str, period_start: datetime, amount: int) -> None:
    """Give back ``amount`` of a counter (never below zero)."""
    where = (
        col(UsageRecord.tenant_id) == uow.tenant_id,
        col(UsageRecord.quota) == quota,
        col(UsageRecord.period_start) == period_start,
    )
    record = (await uow.session.execute(select(UsageRecord).where(*where))).scalar_one_or_none()
    if record is None:
        return
    await uow.session.execute(
        update(UsageRecord).where(*where).values(used=max(record.used - amount, 0), updated_at=uow.now)
    )


async def counts(uow: UnitOfWork, keys: list[tuple[str, datetime]]) -> dict[str, int]:
    """Used amounts by quota for the given (quota, period_start) pairs (0 when nothing was counted)."""
    if not keys:
        return {}
    result = await uow.session.execute(
        select(col(UsageRecord.quota), col(UsageRecord.used)).where(
            col(UsageRecord.tenant_id) == uow.tenant_id,
            tuple_(col(UsageRecord.quota), col(UsageRecord.period_start)).in_(keys),
        )
    )
    found = {quota: 0 for quota, _ in keys}
    found.update({quota: int(used) for quota, used in result.all()})
    return found


async def claim_seat(uow: UnitOfWork, *, period_start: datetime) -> bool:
    """Record that the caller's actor holds a seat this period; True when it is new."""
    inserted = await uow.session.execute(
        insert_ignore(uow.session, SeatRecord)
        .values(tenant_id=uow.tenant_id, period_start=period_start, actor_id=uow.caller.actor_id, first_seen_at=uow.now)
        .returning(SeatRecord.__table__.c.actor_id)  # type: ignore[attr-defined]
    )
    return inserted.first() is not None

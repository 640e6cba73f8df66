"""Flow runs: read, lock for a turn, write."""

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.crm.tables import FlowRunRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, run_id: str, *, for_update: bool = False) -> FlowRunRecord | None:
    """One flow run (locked for the turn being applied; lock its contact and lead first)."""
    query = select(FlowRunRecord).where(col(FlowRunRecord.tenant_id) == uow.tenant_id, col(FlowRunRecord.id) == run_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def add(uow: UnitOfWork, run: FlowRunRecord) -> None:
    """Insert a new run now."""
    uow.session.add(run)
    await uow.session.flush()


async def save(uow: UnitOfWork, run: FlowRunRecord) -> None:
    """Write changes to a loaded run now."""
    uow.session.add(run)
    await uow.session.flush()


async def latest_active(uow: UnitOfWork, contact_id: str, channel: str) -> FlowRunRecord | None:
    """The contact's most recently moved active run on ``channel``."""
    query = (
        select(FlowRunRecord)
        .where(
            col(FlowRunRecord.tenant_id) == uow.tenant_id,
            col(FlowRunRecord.contact_id) == contact_id,
            col(FlowRunRecord.channel) == channel,
            col(FlowRunRecord.status) == "active",
        )
        .order_by(col(FlowRunRecord.updated_at).desc(), col(FlowRunRecord.id).desc())
        .limit(1)
    )
    return (await uow.session.execute(query)).scalar_one_or_none()

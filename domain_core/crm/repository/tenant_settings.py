"""A tenant's own CRM settings: scoring rules override and flow definitions."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.crm.tables import FlowDefinitionRecord, ScoringRulesRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def scoring_rules(uow: UnitOfWork) -> ScoringRulesRecord | None:
    """The tenant's scoring rules override, if any."""
    return await uow.session.get(ScoringRulesRecord, uow.tenant_id)


async def save_scoring_rules(uow: UnitOfWork, record: ScoringRulesRecord) -> None:
    """Write the tenant's scoring rules now."""
    uow.session.add(record)
    await uow.session.flush()


async def flow_definition(uow: UnitOfWork, flow_id: str) -> FlowDefinitionRecord | None:
    """A tenant-defined flow."""
    return await uow.session.get(FlowDefinitionRecord, (uow.tenant_id, flow_id))


async def flow_definitions(uow: UnitOfWork) -> Sequence[FlowDefinitionRecord]:
    """Every tenant-defined flow."""
    query = (
        select(FlowDefinitionRecord)
        .where(col(FlowDefinitionRecord.tenant_id) == uow.tenant_id)
        .order_by(col(FlowDefinitionRecord.flow_id))
    )
    return (await uow.session.execute(query)).scalars().all()


async def save_flow_definition(uow: UnitOfWork, record: FlowDefinitionRecord) -> None:
    """Write a tenant flow now."""
    uow.session.add(record)
    await uow.session.flush()

"""A unit's outbox events and audit entries, written in as few statements as the database allows."""

from typing import Any

from sqlalchemy import Insert, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure.audit import ChainedEntries, head_update
from promptsales.domain_core.infrastructure.tables import AuditEntryRecord, OutboxEventRecord
from promptsales.domain_core.shared.events import DomainEvent


def outbox_rows(events: list[DomainEvent]) -> list[dict[str, Any]]:
    """The outbox rows of ``events``, unpublished."""
    return [
        {
            "id": event.id,
            "tenant_id": event.tenant_id,
            "type": event.type,
            "payload": event.payload,
            "occurred_at": event.occurred_at,
            "published_at": None,
            "attempts": 0,
        }
        for event in events
    ]


async def write(session: AsyncSession, events: list[DomainEvent], audited: ChainedEntries | None) -> None:
    """Insert the outbox rows and audit entries and move the chain head.

    On Postgres that is one statement (data-modifying CTEs always run to completion, referenced or not); a
    write's round trips are most of its cost (issue 13's profile). SQLite has no DML in WITH: one each.
    """
    inserts: list[Insert] = []
    if events:
        inserts.append(insert(OutboxEventRecord).values(outbox_rows(events)))
    if audited is not None:
        inserts.append(insert(AuditEntryRecord).values(audited.rows))
    if session.get_bind().dialect.name != "postgresql":
        for each in inserts:
            await session.execute(each)
        if audited is not None:
            await session.execute(head_update(audited))
        return
    if audited is None:
        if inserts:
            await session.execute(inserts[0])
        return
    combined = head_update(audited)
    for number, part in enumerate(inserts):
        combined = combined.add_cte(part.cte(f"side_records_{number}"))
    await session.execute(combined)

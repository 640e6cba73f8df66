"""Contacts: read and lock, race-safe insert by email/phone, search, tags and consent history."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlmodel import col

from promptsales.domain_core.crm.repository.rows import column_values, insert_if_absent, like_pattern
from promptsales.domain_core.crm.tables import (
    ConsentEventRecord,
    ContactRecord,
    ContactTagRecord,
    FlowRunRecord,
    InteractionRecord,
    LeadRecord,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork


async def get(uow: UnitOfWork, contact_id: str, *, for_update: bool = False) -> ContactRecord | None:
    """One contact by id (merged contacts included; callers follow merged_into_id)."""
    query = select(ContactRecord).where(
        col(ContactRecord.tenant_id) == uow.tenant_id, col(ContactRecord.id) == contact_id
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def lock_many(uow: UnitOfWork, contact_ids: Sequence[str]) -> dict[str, ContactRecord]:
    """Lock several contacts in id order (the same order for every caller, so two merges cannot deadlock)."""
    rows = (
        (
            await uow.session.execute(
                select(ContactRecord)
                .where(col(ContactRecord.tenant_id) == uow.tenant_id, col(ContactRecord.id).in_(contact_ids))
                .order_by(col(ContactRecord.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    return {row.id: row for row in rows}


async def find_active(uow: UnitOfWork, *, email: str | None, phone: str | None) -> ContactRecord | None:
    """The active contact with this normalized email, else this phone, locked for the caller's changes."""
    for column, value in ((ContactRecord.email, email), (ContactRecord.phone, phone)):
        if value is None:
            continue
        found: ContactRecord | None = (
            await uow.session.execute(
                select(ContactRecord)
                .where(
                    col(ContactRecord.tenant_id) == uow.tenant_id,
                    col(column) == value,
                    col(ContactRecord.merged_into_id).is_(None),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


async def insert_new(uow: UnitOfWork, record: ContactRecord) -> ContactRecord | None:
    """Insert ``record``; None when an active contact already has its email or phone (read that one then)."""
    return await insert_if_absent(uow, record)


async def save(uow: UnitOfWork, record: ContactRecord) -> None:
    """Write changes to a loaded contact now."""
    uow.session.add(record)
    await uow.session.flush()


SEARCH_WORDS = 5  # words of a query that must each match (the rest are ignored)


async def search(
    uow: UnitOfWork, *, text: str | None, filters: dict[str, Any], after_id: str | None, limit: int
) -> Sequence[ContactRecord]:
    """Active contacts matching a free-text query and exact filters, ordered by id."""
    query = select(ContactRecord).where(
        col(ContactRecord.tenant_id) == uow.tenant_id, col(ContactRecord.merged_into_id).is_(None)
    )
    # Every word must match some field, so "Ana García" finds Ana whose last name is García.
    for word in (text or "").split()[:SEARCH_WORDS]:
        pattern = like_pattern(word)
        query = query.where(
            or_(
                func.lower(col(ContactRecord.first_name)).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.last_name)).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.email)).like(pattern, escape="\\"),
                col(ContactRecord.phone).like(pattern, escape="\\"),
                func.lower(col(ContactRecord.title)).like(pattern, escape="\\"),
            )
        )
    for name in ("organization_id", "country", "owner"):
        if filters.get(name):
            query = query.where(col(getattr(ContactRecord, name)) == filters[name])
    if filters.get("tag"):
        query = query.where(
            select(col(ContactTagRecord.tag))
            .where(
                col(ContactTagRecord.tenant_id) == uow.tenant_id,
                col(ContactTagRecord.contact_id) == ContactRecord.id,
                col(ContactTagRecord.tag) == filters["tag"],
            )
            .exists()
        )
    if after_id:
        query = query.where(col(ContactRecord.id) > after_id)
    return (await uow.session.execute(query.order_by(col(ContactRecord.id)).limit(limit))).scalars().all()


async def tags_of(uow: UnitOfWork, contact_ids: Sequence[str]) -> dict[str, list[str]]:
    """Tags of each contact, sorted."""
    result: dict[str, list[str]] = {cid: [] for cid in contact_ids}
    if not contact_ids:
        return result
    rows = await uow.session.execute(
        select(col(ContactTagRecord.contact_id), col(ContactTagRecord.tag))
        .where(col(ContactTagRecord.tenant_id) == uow.tenant_id, col(ContactTagRecord.contact_id).in_(contact_ids))
        .order_by(col(ContactTagRecord.tag))
    )
    for contact_id, tag in rows:
        result[contact_id].append(tag)
    return result


async def replace_tags(uow: UnitOfWork, contact_id: str, tags: Sequence[str]) -> None:
    """Set a contact's tags to exactly ``tags``."""
    await uow.session.execute(
        delete(ContactTagRecord).where(
            col(ContactTagRecord.tenant_id) == uow.tenant_id, col(ContactTagRecord.contact_id) == contact_id
        )
    )
    unique = sorted(set(tags))
    if unique:
        await uow.session.execute(
            insert(ContactTagRecord),
            [{"tenant_id": uow.tenant_id, "contact_id": contact_id, "tag": tag} for tag in unique],
        )


async def add_consent_events(uow: UnitOfWork, events: Sequence[ConsentEventRecord]) -> None:
    """Append consent history rows."""
    if events:
        await uow.session.execute(insert(ConsentEventRecord), [column_values(event) for event in events])


async def consent_sources(uow: UnitOfWork, contact_id: str) -> dict[str, ConsentEventRecord]:
    """The latest consent event per channel."""
    rows = (
        (
            await uow.session.execute(
                select(ConsentEventRecord)
                .where(
                    col(ConsentEventRecord.tenant_id) == uow.tenant_id,
                    col(ConsentEventRecord.contact_id) == contact_id,
                )
                .order_by(col(ConsentEventRecord.recorded_at), col(ConsentEventRecord.id))
            )
        )
        .scalars()
        .all()
    )
    return {row.channel: row for row in rows}


async def move_history(uow: UnitOfWork, *, from_id: str, to_id: str) -> dict[str, int]:
    """Re-point a merged contact's leads, interactions, flow runs and consent history; drop its tags."""
    moved: dict[str, int] = {}
    for table, name in (
        (LeadRecord, "leads"),
        (InteractionRecord, "interactions"),
        (FlowRunRecord, "flow_runs"),
        (ConsentEventRecord, "consent_events"),
    ):
        result = await uow.session.execute(
            update(table)
            .where(col(table.tenant_id) == uow.tenant_id, col(table.contact_id) == from_id)
            .values(contact_id=to_id)
        )
        moved[name] = int(getattr(result, "rowcount", 0) or 0)
    await uow.session.execute(
        delete(ContactTagRecord).where(
            col(ContactTagRecord.tenant_id) == uow.tenant_id, col(ContactTagRecord.contact_id) == from_id
        )
    )
    return moved

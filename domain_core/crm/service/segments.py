"""Segments: save a rule, preview it, list members — all evaluated in SQL."""

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import ContactSummary, SegmentPreview, SegmentView
from promptsales.domain_core.crm.model.segments import SegmentGroup, describe_rule, parse_segment_rule
from promptsales.domain_core.crm.segment_query import (
    segment_count_query,
    segment_members_query,
    segment_predicate,
)
from promptsales.domain_core.crm.service import views
from promptsales.domain_core.crm.tables import ContactRecord, SegmentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, NotFound
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor

SAMPLE_SIZE = 10
MEMBERSHIP_SEGMENT_CAP = 200


def segment_view(record: SegmentRecord) -> SegmentView:
    """DTO of a saved segment."""
    return SegmentView(
        id=record.id,
        name=record.name,
        description=record.description,
        rule=record.rule,
        rule_summary=describe_rule(parse_segment_rule(record.rule)),
        created_at=record.created_at,
    )


async def create_segment(uow: UnitOfWork, *, name: str, description: str | None, rule: dict[str, Any]) -> SegmentView:
    """Validate and save a segment rule under a unique name."""
    parse_segment_rule(rule)  # validates; raises naming the bad path
    if await repo.segment_by_name(uow.session, uow.tenant_id, name) is not None:
        raise Conflict(f"A segment named '{name}' already exists.", field="name", hint="Choose another name.")
    record = SegmentRecord(
        id=new_id("seg"),
        tenant_id=uow.tenant_id,
        name=name,
        description=description,
        rule=dict(rule),
        created_at=uow.now,
    )
    uow.session.add(record)
    uow.audit(
        "crm.create_segment",
        target_type="segment",
        target_id=record.id,
        after={"name": name, "rule": record.rule},
    )
    uow.emit("crm.segment_created", {"segment_id": record.id, "name": name})
    return segment_view(record)


async def load_rule(uow: UnitOfWork, segment_id: str) -> SegmentGroup:
    """The parsed rule of a saved segment."""
    record = await repo.get_segment(uow.session, uow.tenant_id, segment_id)
    if record is None:
        raise NotFound("segment", segment_id, field="segment_id")
    return parse_segment_rule(record.rule)


async def preview(uow: UnitOfWork, *, rule: SegmentGroup) -> SegmentPreview:
    """Count of matching contacts now, with a small sample."""
    count = (await uow.session.execute(segment_count_query(rule, tenant_id=uow.tenant_id, now=uow.now))).scalar_one()
    rows = (
        (
            await uow.session.execute(
                segment_members_query(rule, tenant_id=uow.tenant_id, now=uow.now, after_id=None, limit=SAMPLE_SIZE)
            )
        )
        .scalars()
        .all()
    )
    return SegmentPreview(
        count=int(count), rule_summary=describe_rule(rule), sample=[views.contact_summary(r) for r in rows]
    )


async def members(uow: UnitOfWork, *, segment_id: str, cursor: str | None, limit: int) -> Page[ContactSummary]:
    """A page of a segment's current members in id order."""
    rule = await load_rule(uow, segment_id)
    position = decode_cursor(cursor, "segment_members", {"segment_id": segment_id})
    rows = (
        (
            await uow.session.execute(
                segment_members_query(
                    rule,
                    tenant_id=uow.tenant_id,
                    now=uow.now,
                    after_id=str(position[0]) if position else None,
                    limit=limit + 1,
                )
            )
        )
        .scalars()
        .all()
    )
    next_cursor = (
        encode_cursor("segment_members", {"segment_id": segment_id}, [rows[limit - 1].id])
        if len(rows) > limit
        else None
    )
    return Page(items=[views.contact_summary(r) for r in rows[:limit]], next_cursor=next_cursor)


def member_ids_subquery(uow: UnitOfWork, rule: SegmentGroup) -> Any:
    """A subquery of member contact ids, for filtering other listings by segment."""
    return select(col(ContactRecord.id)).where(segment_predicate(rule, tenant_id=uow.tenant_id, now=uow.now))


async def memberships(uow: UnitOfWork, contact_id: str) -> list[SegmentView]:
    """The saved segments a contact belongs to now (one indexed query per segment)."""
    result = []
    for record in await repo.list_segments(uow.session, uow.tenant_id, limit=MEMBERSHIP_SEGMENT_CAP):
        rule = parse_segment_rule(record.rule)
        hit = await uow.session.execute(
            select(col(ContactRecord.id))
            .where(
                segment_predicate(rule, tenant_id=uow.tenant_id, now=uow.now),
                col(ContactRecord.id) == contact_id,
            )
            .limit(1)
        )
        if hit.first() is not None:
            result.append(segment_view(record))
    return result


async def list_all(uow: UnitOfWork) -> list[SegmentView]:
    """Every saved segment of the tenant, by name."""
    return [segment_view(r) for r in await repo.list_segments(uow.session, uow.tenant_id, limit=MEMBERSHIP_SEGMENT_CAP)]

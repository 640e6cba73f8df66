"""Segments: save a rule, preview it, list members — all evaluated in SQL."""

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import CreateSegment
from promptsales.domain_core.crm.dto import ContactSummary, SegmentPreview, SegmentView
from promptsales.domain_core.crm.model.segments import (
    SegmentCondition,
    SegmentGroup,
    describe_rule,
    parse_segment_rule,
)
from promptsales.domain_core.crm.model.vocabulary import ConsentChannel
from promptsales.domain_core.crm.service import views
from promptsales.domain_core.crm.tables import SegmentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, NotFound
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor

SAMPLE_SIZE = 10
MEMBERSHIP_SEGMENT_CAP = 200
LOOKUP_TOOL = "crm_list_segments"


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


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A segment named '{name}' already exists.", field="name", hint="Choose another name.")


async def create_segment(uow: UnitOfWork, command: CreateSegment) -> SegmentView:
    """Validate and save a segment rule under a unique name (race-safe)."""
    parse_segment_rule(command.rule)  # validates; raises naming the bad path
    if await repo.segments.named(uow, command.name) is not None:
        raise _name_taken(command.name)
    record = SegmentRecord(
        id=new_id("seg"),
        tenant_id=uow.tenant_id,
        name=command.name,
        description=command.description,
        rule=dict(command.rule),
        created_at=uow.now,
    )
    if await repo.segments.insert_new(uow, record) is None:
        raise _name_taken(command.name)
    uow.audit(
        "crm.create_segment",
        target_type="segment",
        target_id=record.id,
        after={"name": command.name, "rule": record.rule},
    )
    uow.emit("crm.segment_created", {"segment_id": record.id, "name": command.name})
    return segment_view(record)


async def load_rule(uow: UnitOfWork, segment_id: str) -> SegmentGroup:
    """The parsed rule of a saved segment."""
    record = await repo.segments.get(uow, segment_id)
    if record is None:
        raise NotFound("segment", segment_id, field="segment_id", lookup=LOOKUP_TOOL)
    return parse_segment_rule(record.rule)


async def preview(uow: UnitOfWork, *, rule: SegmentGroup) -> SegmentPreview:
    """Count of matching contacts now, with a small sample."""
    count = await repo.segments.count(uow, rule)
    rows = await repo.segments.members(uow, rule, after_id=None, limit=SAMPLE_SIZE)
    return SegmentPreview(
        count=count, rule_summary=describe_rule(rule), sample=[views.contact_summary(r) for r in rows]
    )


async def preview_rule_or_segment(
    uow: UnitOfWork, *, rule: dict[str, object] | None, segment_id: str | None
) -> SegmentPreview:
    """Preview a rule as given, or a saved segment's rule."""
    parsed = await load_rule(uow, segment_id) if segment_id else parse_segment_rule(rule or {})
    return await preview(uow, rule=parsed)


async def members(
    uow: UnitOfWork, *, segment_id: str, cursor: str | None, limit: int, consented: ConsentChannel | None = None
) -> Page[ContactSummary]:
    """A page of a segment's current members in id order (only those who granted ``consented``, when given)."""
    rule = await load_rule(uow, segment_id)
    if consented is not None:
        granted = SegmentCondition.model_validate({"field": f"consent.{consented}", "op": "eq", "value": "granted"})
        rule = SegmentGroup(mode="all", children=(rule, granted))
    scope: dict[str, str] = {"segment_id": segment_id}
    if consented is not None:
        scope["consented"] = consented
    position = decode_cursor(cursor, "segment_members", scope)
    rows = await repo.segments.members(uow, rule, after_id=str(position[0]) if position else None, limit=limit + 1)
    next_cursor = encode_cursor("segment_members", scope, [rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=[views.contact_summary(r) for r in rows[:limit]], next_cursor=next_cursor)


async def memberships(uow: UnitOfWork, contact_id: str) -> list[SegmentView]:
    """The saved segments a contact belongs to now (one indexed query per segment)."""
    result = []
    for record in await repo.segments.all_by_name(uow, limit=MEMBERSHIP_SEGMENT_CAP):
        if await repo.segments.includes(uow, parse_segment_rule(record.rule), contact_id):
            result.append(segment_view(record))
    return result


async def list_all(uow: UnitOfWork) -> list[SegmentView]:
    """Every saved segment of the tenant, by name."""
    return [segment_view(r) for r in await repo.segments.all_by_name(uow, limit=MEMBERSHIP_SEGMENT_CAP)]

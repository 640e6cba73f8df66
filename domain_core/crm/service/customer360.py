"""Customer 360: one contact with organization, leads, timeline, segments and consent."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import Customer360, InteractionView
from promptsales.domain_core.crm.service import contacts, segments, views
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

TIMELINE_CAP = 50

# Later contexts (campaign touches, conversions, plan, tickets) add sections through their facades.
SectionProvider = Callable[[UnitOfWork, str], Awaitable[dict[str, Any]]]


async def timeline_page(
    uow: UnitOfWork, contact_id: str, *, cursor: str | None, limit: int
) -> tuple[list[InteractionView], str | None]:
    """A page of a contact's timeline, newest first."""
    position = decode_cursor(cursor, "timeline", {"contact_id": contact_id})
    before = None
    if position:
        try:
            before = (as_utc(datetime.fromisoformat(str(position[0])), field="timeline_cursor"), str(position[1]))
        except (ValueError, IndexError) as exc:
            raise ValidationFailed(
                "timeline_cursor is not valid.", field="timeline_cursor", hint="Pass timeline_next_cursor as returned."
            ) from exc
    rows = await repo.interactions.timeline(uow, contact_id, before=before, limit=limit + 1)
    items = [views.interaction_view(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor("timeline", {"contact_id": contact_id}, [last.occurred_at.isoformat(), last.id])
    return items, next_cursor


async def customer_360(
    uow: UnitOfWork,
    *,
    contact_id: str,
    timeline_cursor: str | None,
    timeline_limit: int,
    sections: dict[str, SectionProvider],
) -> Customer360:
    """Assemble the 360° view; a merged contact id resolves to its survivor."""
    contact = await contacts.load_contact(uow, contact_id)
    if contact.merged_into_id:
        contact = await contacts.load_contact(uow, contact.merged_into_id)
    org = await repo.organizations.get(uow, contact.organization_id) if contact.organization_id else None
    leads = await repo.leads.of_contact(uow, contact.id)
    timeline, next_cursor = await timeline_page(
        uow, contact.id, cursor=timeline_cursor, limit=min(timeline_limit, TIMELINE_CAP)
    )
    return Customer360(
        contact=await contacts.contact_dto(uow, contact),
        organization=views.organization_view(org) if org else None,
        leads=[views.lead_view(lead) for lead in leads],
        timeline=timeline,
        timeline_next_cursor=next_cursor,
        segments=await segments.memberships(uow, contact.id),
        sections=await _sections(uow, contact.id, sections),
    )


async def _sections(uow: UnitOfWork, contact_id: str, providers: dict[str, SectionProvider]) -> dict[str, Any]:
    """Other contexts' parts of the view; a provider with nothing to show (an empty dict) adds no section."""
    found: dict[str, Any] = {}
    for name, provider in providers.items():
        section = await provider(uow, contact_id)
        if section:
            found[name] = section
    return found

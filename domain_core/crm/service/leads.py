"""Leads: read, list, update by hand. Capturing a lead lives in ``capture``."""

from typing import Any

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import UpdateLead
from promptsales.domain_core.crm.dto import LeadSummary, LeadView
from promptsales.domain_core.crm.model.vocabulary import MANUAL_STAGES
from promptsales.domain_core.crm.service import contacts, segments, views
from promptsales.domain_core.crm.service.classification import reclassify
from promptsales.domain_core.crm.tables import LeadRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor

LOOKUP_TOOL = "crm_list_leads"
LeadFilters = dict[str, Any]


async def load_lead(uow: UnitOfWork, lead_id: str, *, for_update: bool = False) -> LeadRecord:
    """A lead or NotFound."""
    lead = await repo.leads.get(uow, lead_id, for_update=for_update)
    if lead is None:
        raise NotFound("lead", lead_id, field="lead_id", lookup=LOOKUP_TOOL)
    return lead


async def get_lead(uow: UnitOfWork, *, lead_id: str) -> LeadView:
    """One lead with its classification."""
    return views.lead_view(await load_lead(uow, lead_id))


async def list_leads(
    uow: UnitOfWork, *, filters: LeadFilters, segment_id: str | None, cursor: str | None, limit: int
) -> Page[LeadSummary]:
    """Leads newest first, filtered (and within a saved segment), with a cursor."""
    normalized: LeadFilters = {
        k: as_utc(v, field=k) if k in ("created_from", "created_to") and v is not None else v
        for k, v in filters.items()
    }
    scope = {**normalized, "segment_id": segment_id}
    position = decode_cursor(cursor, "leads", scope)
    rule = await segments.load_rule(uow, segment_id) if segment_id else None
    rows = await repo.leads.page(
        uow,
        filters=normalized,
        segment=rule,
        after_id=str(position[0]) if position else None,
        limit=limit + 1,
    )
    items = [views.lead_summary(lead, contact) for lead, contact in rows[:limit]]
    next_cursor = encode_cursor("leads", scope, [rows[limit - 1][0].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def update_lead(uow: UnitOfWork, command: UpdateLead) -> LeadView:
    """Assign an owner, or set a stage by hand (opportunity/customer stay until cleared)."""
    won = _won_deal(command)
    # Only the lead is locked (its contact is read), so this cannot deadlock with a capture's contact -> lead.
    lead = await load_lead(uow, command.lead_id, for_update=True)
    before = {"owner": lead.owner, "stage": lead.stage, "manual_stage": lead.manual_stage}
    if command.owner is not None:
        lead.owner = command.owner or None
    if command.stage is not None:
        if command.stage not in MANUAL_STAGES:
            raise ValidationFailed(
                f"stage '{command.stage}' is computed by classification and cannot be set by hand.",
                field="stage",
                hint="Set 'opportunity' or 'customer', or use clear_manual_stage.",
            )
        lead.stage = command.stage
        lead.manual_stage = True
    if command.clear_manual_stage:
        lead.manual_stage = False
    if not lead.manual_stage:
        await reclassify(uow, lead, await contacts.load_contact(uow, lead.contact_id, field="lead_id"))
    lead.updated_at = uow.now
    await repo.leads.save(uow, lead)
    after = {"owner": lead.owner, "stage": lead.stage, "manual_stage": lead.manual_stage, **won}
    uow.audit("crm.update_lead", target_type="lead", target_id=lead.id, before=before, after=after)
    uow.emit("crm.lead_updated", {"lead_id": lead.id, "contact_id": lead.contact_id, **after})
    return views.lead_view(lead)


def _won_deal(command: UpdateLead) -> dict[str, str]:
    """The won deal's value for the event analytics reads (revenue), checked to go with stage 'customer'."""
    if command.deal_value is None and command.deal_currency is None:
        return {}
    if command.stage != "customer":
        raise ValidationFailed(
            "deal_value is the value of a won deal.", field="deal_value", hint="Send it with stage 'customer'."
        )
    if command.deal_value is None or command.deal_currency is None:
        missing = "deal_currency" if command.deal_currency is None else "deal_value"
        raise ValidationFailed(f"{missing} is needed with the other (e.g. 1200.00 EUR).", field=missing)
    return {"deal_value": str(command.deal_value), "deal_currency": command.deal_currency}

"""Attention flows for chat and voice bots: start a run, advance it, apply what the answers mean."""

from typing import Any, cast

from pydantic import ValidationError

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import FlowRunView
from promptsales.domain_core.crm.model.flow_definitions import FlowDefinition
from promptsales.domain_core.crm.model.flows import (
    Effect,
    FlowError,
    FlowState,
    FlowTurn,
    advance_flow,
    load_default_flows,
    start_flow,
)
from promptsales.domain_core.crm.model.identity import normalize_email, normalize_phone
from promptsales.domain_core.crm.model.vocabulary import FlowChannel, LifecycleStage
from promptsales.domain_core.crm.service import contacts
from promptsales.domain_core.crm.service.classification import reclassify
from promptsales.domain_core.crm.tables import ContactRecord, FlowDefinitionRecord, FlowRunRecord, LeadRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, DomainError, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id

# Answers stored on the lead's qualification (they drive scoring); others go to contact attributes.
QUALIFICATION_FIELDS = frozenset({"budget", "authority", "need", "timeline"})


async def definition(uow: UnitOfWork, flow_id: str) -> FlowDefinition:
    """A tenant's own flow, else a shipped one."""
    record = await repo.flow_definition(uow.session, uow.tenant_id, flow_id)
    if record is not None:
        return FlowDefinition.model_validate(record.definition)
    shipped = load_default_flows()
    if flow_id not in shipped:
        raise NotFound("flow", flow_id, field="flow_id")
    return shipped[flow_id]


async def all_definitions(uow: UnitOfWork) -> dict[str, FlowDefinition]:
    """Shipped flows overlaid with the tenant's own."""
    flows = dict(load_default_flows())
    for record in await repo.list_flow_definitions(uow.session, uow.tenant_id):
        flows[record.flow_id] = FlowDefinition.model_validate(record.definition)
    return flows


async def save_definition(uow: UnitOfWork, *, raw: dict[str, Any]) -> FlowDefinition:
    """Validate and store a tenant flow (same id as a shipped flow overrides it for this tenant)."""
    try:
        flow = FlowDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "definition." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{path}: {first['msg']}", field=path) from exc
    record = await repo.flow_definition(uow.session, uow.tenant_id, flow.id)
    record = record or FlowDefinitionRecord(tenant_id=uow.tenant_id, flow_id=flow.id, definition={}, updated_at=uow.now)
    record.definition = flow.model_dump(mode="json")
    record.updated_at = uow.now
    uow.session.add(record)
    uow.audit("crm.save_flow", target_type="flow", target_id=flow.id, after={"version": flow.version})
    return flow


def _context(contact: ContactRecord) -> dict[str, str]:
    values = {
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "email": contact.email or "",
        "phone": contact.phone or "",
    }
    values.update({k: str(v) for k, v in contact.attributes.items() if isinstance(v, str | int | float)})
    return values


async def _apply_effects(
    uow: UnitOfWork,
    run: FlowRunRecord,
    contact: ContactRecord,
    lead: LeadRecord | None,
    effects: tuple[Effect, ...],
) -> None:
    tags: list[str] = []
    attributes = dict(contact.attributes)
    qualification = dict(lead.qualification) if lead else {}
    for effect in effects:
        if effect.kind == "set_field" and effect.field:
            value = effect.value
            if effect.field == "email" and isinstance(value, str):
                if contact.email is None:
                    contact.email = normalize_email(value, field="user_input")
            elif effect.field == "phone" and isinstance(value, str):
                if contact.phone is None:
                    contact.phone = normalize_phone(value, country=contact.country, field="user_input")
            elif effect.field in QUALIFICATION_FIELDS and lead is not None:
                qualification[effect.field] = value
            else:
                attributes[effect.field] = value
        elif effect.kind == "add_tag" and effect.tag:
            tags.append(effect.tag)
        elif effect.kind == "adjust_score" and lead is not None and effect.points is not None:
            lead.score_adjustment += effect.points
        elif effect.kind == "handoff":
            attributes["handoff_queue"] = effect.queue
            uow.emit(
                "crm.flow_handoff",
                {"run_id": run.id, "contact_id": contact.id, "queue": effect.queue, "reason": effect.reason},
            )
    contact.attributes = attributes
    contact.last_activity_at = uow.now
    contact.updated_at = uow.now
    uow.session.add(contact)
    if tags:
        current = (await repo.tags_by_contact(uow.session, uow.tenant_id, [contact.id]))[contact.id]
        await repo.replace_tags(uow.session, uow.tenant_id, contact.id, [*current, *tags])
    if lead is not None:
        lead.qualification = qualification
        uow.session.add(lead)
        await uow.session.flush()
        await reclassify(uow, lead, contact)


def _view(run: FlowRunRecord, turn: FlowTurn, lead: LeadRecord | None) -> FlowRunView:
    return FlowRunView(
        run_id=run.id,
        flow_id=run.flow_id,
        contact_id=run.contact_id,
        channel=cast(FlowChannel, run.channel),
        status=turn.state.status,
        messages=list(turn.messages),
        captured=dict(turn.captured),
        awaiting=turn.awaiting.model_dump(mode="json") if turn.awaiting else None,
        done=turn.done,
        lead_stage=cast(LifecycleStage, lead.stage) if lead else None,
        lead_score=lead.score if lead else None,
    )


def _flow_failure(exc: FlowError) -> DomainError:
    return Conflict(str(exc), field=exc.field or "run_id", hint="Start a new run with start_flow.")


async def start(uow: UnitOfWork, *, flow_id: str, contact_id: str, channel: str) -> FlowRunView:
    """Open a run for a contact and return the bot's first message(s)."""
    flow = await definition(uow, flow_id)
    contact = await contacts.active_contact(uow, contact_id)
    leads = await repo.leads_of_contact(uow.session, uow.tenant_id, contact.id)
    lead = leads[0] if leads else None
    try:
        turn = start_flow(flow, channel=cast(FlowChannel, channel), context=_context(contact))
    except FlowError as exc:
        raise _flow_failure(exc) from exc
    run = FlowRunRecord(
        id=new_id("run"),
        tenant_id=uow.tenant_id,
        flow_id=flow.id,
        contact_id=contact.id,
        lead_id=lead.id if lead else None,
        channel=channel,
        status=turn.state.status,
        state=turn.state.model_dump(mode="json"),
        transcript=[{"from": "bot", "text": m, "at": uow.now.isoformat()} for m in turn.messages],
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(run)
    await _apply_effects(uow, run, contact, lead, turn.effects)
    uow.audit(
        "crm.start_flow",
        target_type="flow_run",
        target_id=run.id,
        after={"flow_id": flow.id, "contact_id": contact.id, "channel": channel},
    )
    return _view(run, turn, lead)


async def advance(uow: UnitOfWork, *, run_id: str, user_input: str, channel: str | None) -> FlowRunView:
    """Feed the user's answer to a run and return what the bot says next."""
    run = await repo.get_flow_run(uow.session, uow.tenant_id, run_id)
    if run is None:
        raise NotFound("flow run", run_id, field="run_id")
    if run.status != "active":
        raise Conflict(
            f"flow run '{run_id}' is {run.status}.",
            field="run_id",
            hint="Start a new run with start_flow to talk again.",
        )
    flow = await definition(uow, run.flow_id)
    contact = await contacts.load_contact(uow, run.contact_id, for_update=True)
    lead = await repo.get_lead(uow.session, uow.tenant_id, run.lead_id, for_update=True) if run.lead_id else None
    used_channel = channel or run.channel
    try:
        turn = advance_flow(
            flow,
            FlowState.model_validate(run.state),
            user_input,
            channel=cast(FlowChannel, used_channel),
            context=_context(contact),
        )
    except FlowError as exc:
        raise _flow_failure(exc) from exc
    await _apply_effects(uow, run, contact, lead, turn.effects)
    run.state = turn.state.model_dump(mode="json")
    run.status = turn.state.status
    run.channel = used_channel
    run.transcript = [
        *run.transcript,
        {"from": "user", "text": user_input, "at": uow.now.isoformat()},
        *({"from": "bot", "text": m, "at": uow.now.isoformat()} for m in turn.messages),
    ]
    run.updated_at = uow.now
    uow.session.add(run)
    uow.audit(
        "crm.advance_flow",
        target_type="flow_run",
        target_id=run.id,
        changes={"captured": dict(turn.captured), "status": run.status},
    )
    if turn.done:
        uow.emit(
            "crm.flow_finished",
            {
                "run_id": run.id,
                "contact_id": contact.id,
                "status": run.status,
                "answers": dict(turn.state.answers),
            },
        )
    return _view(run, turn, lead)

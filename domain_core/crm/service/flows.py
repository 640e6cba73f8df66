"""Attention flows for chat and voice bots: start a run, advance it, apply what the answers mean."""

from typing import Any, cast

from pydantic import ValidationError

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import AdvanceFlow, StartFlow
from promptsales.domain_core.crm.dto import FlowDefinitionView, FlowList, FlowRunSummary, FlowRunView, FlowSummary
from promptsales.domain_core.crm.model.flow_definitions import AskStep, FlowDefinition
from promptsales.domain_core.crm.model.flows import (
    Effect,
    FlowError,
    FlowState,
    FlowTurn,
    Suggestion,
    advance_flow,
    load_default_flows,
    pending_question,
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
RESTART_HINT = "Start a new run with crm_start_flow."


async def definition(uow: UnitOfWork, flow_id: str) -> FlowDefinition:
    """A tenant's own flow, else a shipped one."""
    record = await repo.tenant_settings.flow_definition(uow, flow_id)
    if record is not None:
        return FlowDefinition.model_validate(record.definition)
    shipped = load_default_flows()
    if flow_id not in shipped:
        raise NotFound("flow", flow_id, field="flow_id", lookup="crm_list_flows")
    return shipped[flow_id]


async def all_definitions(uow: UnitOfWork) -> dict[str, FlowDefinition]:
    """Shipped flows overlaid with the tenant's own."""
    flows = dict(load_default_flows())
    for record in await repo.tenant_settings.flow_definitions(uow):
        flows[record.flow_id] = FlowDefinition.model_validate(record.definition)
    return flows


async def list_flows(uow: UnitOfWork) -> FlowList:
    """Flows the tenant can start, each marked shipped or the tenant's own."""
    shipped = load_default_flows()
    return FlowList(
        items=[
            FlowSummary(
                id=flow.id,
                name=flow.name,
                description=flow.description,
                version=flow.version,
                source="tenant" if shipped.get(flow.id) != flow else "shipped",
            )
            for flow in (await all_definitions(uow)).values()
        ]
    )


async def definition_view(uow: UnitOfWork, *, flow_id: str) -> FlowDefinitionView:
    """A flow definition as JSON."""
    return FlowDefinitionView(definition=(await definition(uow, flow_id)).model_dump(mode="json"))


async def save_definition(uow: UnitOfWork, *, raw: dict[str, Any]) -> FlowDefinition:
    """Validate and store a tenant flow (same id as a shipped flow overrides it for this tenant)."""
    try:
        flow = FlowDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "definition." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{path}: {first['msg']}", field=path) from exc
    record = await repo.tenant_settings.flow_definition(uow, flow.id)
    record = record or FlowDefinitionRecord(tenant_id=uow.tenant_id, flow_id=flow.id, definition={}, updated_at=uow.now)
    record.definition = flow.model_dump(mode="json")
    record.updated_at = uow.now
    await repo.tenant_settings.save_flow_definition(uow, record)
    uow.audit("crm.save_flow", target_type="flow", target_id=flow.id, after={"version": flow.version})
    return flow


async def question_of_run(uow: UnitOfWork, *, run_id: str) -> tuple[str, AskStep] | None:
    """The question a run waits on, with its step id (None when the run is unknown, finished or elsewhere)."""
    run = await repo.flow_runs.get(uow, run_id)
    if run is None or run.status != "active":
        return None
    try:
        flow = await definition(uow, run.flow_id)
        state = FlowState.model_validate(run.state)
    except (DomainError, ValidationError):
        return None  # the turn itself reports why
    step = pending_question(flow, state) if state.flow_version == flow.version else None
    return (state.current_step or "", step) if step is not None else None


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
    await repo.contacts.save(uow, contact)
    if tags:
        current = (await repo.contacts.tags_of(uow, [contact.id]))[contact.id]
        await repo.contacts.replace_tags(uow, contact.id, [*current, *tags])
    if lead is not None:
        lead.qualification = qualification
        await reclassify(uow, lead, contact)
        await repo.leads.save(uow, lead)


async def active_run(uow: UnitOfWork, *, contact_id: str, channel: FlowChannel) -> FlowRunSummary | None:
    """The contact's active run on ``channel`` that moved last (None: no conversation is waiting for them)."""
    run = await repo.flow_runs.latest_active(uow, contact_id, channel)
    if run is None:
        return None
    return FlowRunSummary(
        run_id=run.id,
        flow_id=run.flow_id,
        contact_id=run.contact_id,
        channel=cast(FlowChannel, run.channel),
        status=run.status,
        updated_at=run.updated_at,
    )


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
    return Conflict(str(exc), field=exc.field or "run_id", hint=RESTART_HINT)


async def start(uow: UnitOfWork, command: StartFlow) -> FlowRunView:
    """Open a run for a contact and return the bot's first message(s)."""
    flow = await definition(uow, command.flow_id)
    contact = await contacts.active_contact(uow, command.contact_id)
    leads = await repo.leads.of_contact(uow, contact.id, for_update=True)
    lead = leads[0] if leads else None
    try:
        turn = start_flow(flow, channel=command.channel, context=_context(contact))
    except FlowError as exc:
        raise _flow_failure(exc) from exc
    run = FlowRunRecord(
        id=new_id("run"),
        tenant_id=uow.tenant_id,
        flow_id=flow.id,
        contact_id=contact.id,
        lead_id=lead.id if lead else None,
        channel=command.channel,
        status=turn.state.status,
        state=turn.state.model_dump(mode="json"),
        transcript=[{"from": "bot", "text": m, "at": uow.now.isoformat()} for m in turn.messages],
        created_at=uow.now,
        updated_at=uow.now,
    )
    await repo.flow_runs.add(uow, run)
    await _apply_effects(uow, run, contact, lead, turn.effects)
    uow.audit(
        "crm.start_flow",
        target_type="flow_run",
        target_id=run.id,
        after={"flow_id": flow.id, "contact_id": contact.id, "channel": command.channel},
    )
    return _view(run, turn, lead)


async def advance(uow: UnitOfWork, command: AdvanceFlow, suggestion: Suggestion | None = None) -> FlowRunView:
    """Feed the person's answer to a run and return what the bot says next."""
    found = await repo.flow_runs.get(uow, command.run_id)
    if found is None:
        raise NotFound("flow run", command.run_id, field="run_id")
    # Lock order: contact, lead, then the run (re-read under its lock: a concurrent turn may have moved it).
    contact = await contacts.load_contact(uow, found.contact_id, for_update=True)
    lead = await repo.leads.get(uow, found.lead_id, for_update=True) if found.lead_id else None
    run = await repo.flow_runs.get(uow, command.run_id, for_update=True)
    if run is None:
        raise NotFound("flow run", command.run_id, field="run_id")
    if run.status != "active":
        raise Conflict(f"flow run '{command.run_id}' is {run.status}.", field="run_id", hint=RESTART_HINT)
    flow = await definition(uow, run.flow_id)
    used_channel = command.channel or cast(FlowChannel, run.channel)
    try:
        turn = advance_flow(
            flow,
            FlowState.model_validate(run.state),
            command.user_input,
            channel=used_channel,
            context=_context(contact),
            suggestion=suggestion,
        )
    except FlowError as exc:
        raise _flow_failure(exc) from exc
    await _apply_effects(uow, run, contact, lead, turn.effects)
    run.state = turn.state.model_dump(mode="json")
    run.status = turn.state.status
    run.channel = used_channel
    run.transcript = [
        *run.transcript,
        {"from": "user", "text": command.user_input, "at": uow.now.isoformat()},
        *({"from": "bot", "text": m, "at": uow.now.isoformat()} for m in turn.messages),
    ]
    run.updated_at = uow.now
    await repo.flow_runs.save(uow, run)
    uow.audit(
        "crm.advance_flow",
        target_type="flow_run",
        target_id=run.id,
        changes={"captured": dict(turn.captured), "status": run.status},
    )
    if turn.done:
        uow.emit(
            "crm.flow_finished",
            {"run_id": run.id, "contact_id": contact.id, "status": run.status, "answers": dict(turn.state.answers)},
        )
    return _view(run, turn, lead)

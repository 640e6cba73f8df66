"""Interactions: log a conversation or meeting; it feeds engagement and the timeline."""

from typing import Protocol

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import LogInteraction
from promptsales.domain_core.crm.dto import InteractionView
from promptsales.domain_core.crm.service import contacts, views
from promptsales.domain_core.crm.service.classification import reclassify
from promptsales.domain_core.crm.tables import InteractionRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.ids import new_id


class Signals(Protocol):
    """What another context read in an interaction's text (the content context's analysis)."""

    @property
    def intent(self) -> str: ...
    @property
    def intent_confidence(self) -> float: ...
    @property
    def sentiment(self) -> str: ...
    @property
    def sentiment_score(self) -> float: ...


def check(command: LogInteraction) -> None:
    """Refuse an interaction without text before anything is paid for (its analysis)."""
    if not (command.summary or command.transcript):
        raise ValidationFailed("Give a summary or a transcript of the interaction.", field="summary")


async def log_interaction(uow: UnitOfWork, command: LogInteraction, signals: Signals | None) -> InteractionView:
    """Record an interaction, bump the contact's last activity and reclassify their latest lead."""
    check(command)
    contact = await contacts.active_contact(uow, command.contact_id)
    at = as_utc(command.occurred_at, field="occurred_at") if command.occurred_at else uow.now
    if at > uow.now:
        raise ValidationFailed("occurred_at is in the future.", field="occurred_at")
    leads = await repo.leads.of_contact(uow, contact.id, for_update=True)
    if command.lead_id:
        lead = next((item for item in leads if item.id == command.lead_id), None)
        if lead is None:
            raise ValidationFailed(
                f"lead '{command.lead_id}' does not belong to contact '{contact.id}'.", field="lead_id"
            )
    else:
        lead = leads[0] if leads else None
    record = InteractionRecord(
        id=new_id("int"),
        tenant_id=uow.tenant_id,
        contact_id=contact.id,
        lead_id=lead.id if lead else None,
        channel=command.channel,
        direction=command.direction,
        summary=command.summary,
        transcript=command.transcript,
        intent=signals.intent if signals else None,
        intent_confidence=signals.intent_confidence if signals else None,
        sentiment=signals.sentiment if signals else None,
        sentiment_score=signals.sentiment_score if signals else None,
        occurred_at=at,
        created_at=uow.now,
    )
    await repo.interactions.add(uow, record)
    if contact.last_activity_at is None or at > contact.last_activity_at:
        contact.last_activity_at = at
        contact.updated_at = uow.now
        await repo.contacts.save(uow, contact)
    if lead is not None:
        await reclassify(uow, lead, contact)
        await repo.leads.save(uow, lead)
    facts = {
        "contact_id": contact.id,
        "channel": command.channel,
        "direction": command.direction,
        "intent": record.intent,
        "sentiment": record.sentiment,
    }
    uow.audit("crm.log_interaction", target_type="interaction", target_id=record.id, after=facts)
    uow.emit("crm.interaction_logged", {"interaction_id": record.id, **facts})
    return views.interaction_view(record)

"""Interactions: log a conversation or meeting; it feeds engagement and the timeline."""

from datetime import datetime
from typing import Protocol

from promptsales.domain_core.crm import repository as repo
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


def interaction_text(summary: str | None, transcript: str | None) -> str:
    """The text an interaction is analysed by."""
    return "\n".join(part for part in (summary, transcript) if part)


async def log_interaction(
    uow: UnitOfWork,
    *,
    contact_id: str,
    channel: str,
    direction: str,
    summary: str | None,
    transcript: str | None,
    occurred_at: datetime | None,
    lead_id: str | None,
    signals: Signals | None = None,
) -> InteractionView:
    """Record an interaction, bump the contact's last activity and reclassify their latest lead."""
    if not (summary or transcript):
        raise ValidationFailed("Give a summary or a transcript of the interaction.", field="summary")
    contact = await contacts.active_contact(uow, contact_id)
    at = as_utc(occurred_at, field="occurred_at") if occurred_at else uow.now
    if at > uow.now:
        raise ValidationFailed("occurred_at is in the future.", field="occurred_at")
    leads = await repo.leads_of_contact(uow.session, uow.tenant_id, contact.id)
    lead = next((item for item in leads if item.id == lead_id), None) if lead_id else (leads[0] if leads else None)
    if lead_id and lead is None:
        raise ValidationFailed(f"lead '{lead_id}' does not belong to contact '{contact.id}'.", field="lead_id")
    record = InteractionRecord(
        id=new_id("int"),
        tenant_id=uow.tenant_id,
        contact_id=contact.id,
        lead_id=lead.id if lead else None,
        channel=channel,
        direction=direction,
        summary=summary,
        transcript=transcript,
        intent=signals.intent if signals else None,
        intent_confidence=signals.intent_confidence if signals else None,
        sentiment=signals.sentiment if signals else None,
        sentiment_score=signals.sentiment_score if signals else None,
        occurred_at=at,
        created_at=uow.now,
    )
    uow.session.add(record)
    if contact.last_activity_at is None or at > contact.last_activity_at:
        contact.last_activity_at = at
        contact.updated_at = uow.now
        uow.session.add(contact)
    await uow.session.flush()
    if lead is not None:
        await reclassify(uow, lead, contact)
    uow.audit(
        "crm.log_interaction",
        target_type="interaction",
        target_id=record.id,
        after={
            "contact_id": contact.id,
            "channel": channel,
            "direction": direction,
            "intent": record.intent,
            "sentiment": record.sentiment,
        },
    )
    uow.emit(
        "crm.interaction_logged",
        {
            "interaction_id": record.id,
            "contact_id": contact.id,
            "channel": channel,
            "direction": direction,
            "intent": record.intent,
            "sentiment": record.sentiment,
        },
    )
    return views.interaction_view(record)

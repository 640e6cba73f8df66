"""Webhook receipts: each PayPal event is applied once, however often it is delivered."""

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col

from promptsales.domain_core.business.tables import WebhookReceiptRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore


async def record(uow: UnitOfWork, *, event_id: str, event_type: str, resource_id: str, occurred_at: datetime) -> bool:
    """Store a receipt; False when the event was handled before (a redelivery)."""
    inserted = await uow.session.execute(
        insert_ignore(uow.session, WebhookReceiptRecord)
        .values(
            event_id=event_id,
            tenant_id=uow.tenant_id,
            event_type=event_type,
            resource_id=resource_id[:64],
            occurred_at=occurred_at,
            received_at=uow.now,
            outcome="received",
        )
        .returning(WebhookReceiptRecord.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    return inserted.first() is not None


async def exists(uow: UnitOfWork, event_id: str) -> bool:
    """Whether a webhook event id was handled before (checked before any network work is done for it)."""
    result = await uow.session.execute(
        select(col(WebhookReceiptRecord.event_id)).where(col(WebhookReceiptRecord.event_id) == event_id)
    )
    return result.first() is not None


async def set_outcome(uow: UnitOfWork, event_id: str, outcome: str) -> None:
    """What handling the event did (kept for support)."""
    await uow.session.execute(
        update(WebhookReceiptRecord).where(col(WebhookReceiptRecord.event_id) == event_id).values(outcome=outcome[:200])
    )

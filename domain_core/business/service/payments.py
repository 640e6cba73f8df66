"""Listing the payments PayPal reported."""

from datetime import datetime

from promptsales.domain_core.business.dto import PaymentPage, PaymentView
from promptsales.domain_core.business.repository import payments as payments_repo
from promptsales.domain_core.business.tables import PaymentRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.domain_core.shared.pagination import clamp_page_size, decode_cursor, encode_cursor

SCOPE = "business.payments"


def payment_view(record: PaymentRecord) -> PaymentView:
    """A stored payment as the facade returns it."""
    return PaymentView(
        id=record.id,
        provider_payment_id=record.provider_payment_id,
        kind=record.kind,
        plan=record.plan_id,
        amount=record.amount,
        currency=record.currency,
        status=record.status,
        occurred_at=record.occurred_at,
    )


async def list_payments(uow: UnitOfWork, *, cursor: str | None, limit: int | None) -> PaymentPage:
    """Payments newest first, one page."""
    size = clamp_page_size(limit)
    position = decode_cursor(cursor, SCOPE, {})
    try:
        after = (datetime.fromisoformat(str(position[0])), str(position[1])) if position else None
    except (ValueError, IndexError) as exc:
        raise ValidationFailed(
            "cursor is not valid.", field="cursor", hint="Pass next_cursor exactly as returned."
        ) from exc
    rows = await payments_repo.page(uow, after=after, limit=size + 1)
    page, more = rows[:size], len(rows) > size
    last = page[-1] if page else None
    next_cursor = encode_cursor(SCOPE, {}, [last.occurred_at.isoformat(), last.id]) if more and last else None
    return PaymentPage(items=[payment_view(r) for r in page], next_cursor=next_cursor)

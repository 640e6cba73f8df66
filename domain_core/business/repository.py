"""Business queries; tenant tables are always filtered by tenant (and guarded by RLS on Postgres)."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.business.tables import (
    CheckoutRecord,
    PaymentRecord,
    ProviderLinkRecord,
    ProviderPlanRecord,
    SeatRecord,
    SubscriptionRecord,
    UsageRecord,
    WebhookReceiptRecord,
)
from promptsales.domain_core.infrastructure.upsert import insert_ignore


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


async def current_subscription(session: AsyncSession, tenant_id: str) -> SubscriptionRecord | None:
    """The tenant's newest subscription that the buyer approved (pending checkouts do not count)."""
    result = await session.execute(
        select(SubscriptionRecord)
        .where(col(SubscriptionRecord.tenant_id) == tenant_id, col(SubscriptionRecord.status) != "pending")
        .order_by(col(SubscriptionRecord.created_at).desc(), col(SubscriptionRecord.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def subscription_by_provider_id(
    session: AsyncSession, tenant_id: str, provider_subscription_id: str
) -> SubscriptionRecord | None:
    """The subscription the provider knows as ``provider_subscription_id``."""
    result = await session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == tenant_id,
            col(SubscriptionRecord.provider_subscription_id) == provider_subscription_id,
        )
    )
    return result.scalar_one_or_none()


async def subscription_by_id(session: AsyncSession, tenant_id: str, subscription_id: str) -> SubscriptionRecord | None:
    """A subscription by our id."""
    result = await session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == tenant_id, col(SubscriptionRecord.id) == subscription_id
        )
    )
    return result.scalar_one_or_none()


async def checkout_by_ref(session: AsyncSession, tenant_id: str, provider_ref: str) -> CheckoutRecord | None:
    """The checkout whose provider object is ``provider_ref``."""
    result = await session.execute(
        select(CheckoutRecord).where(
            col(CheckoutRecord.tenant_id) == tenant_id, col(CheckoutRecord.provider_ref) == provider_ref
        )
    )
    return result.scalar_one_or_none()


async def pending_checkouts(session: AsyncSession, tenant_id: str) -> list[CheckoutRecord]:
    """The tenant's checkouts still waiting for the buyer, newest first."""
    result = await session.execute(
        select(CheckoutRecord)
        .where(col(CheckoutRecord.tenant_id) == tenant_id, col(CheckoutRecord.status) == "pending")
        .order_by(col(CheckoutRecord.created_at).desc())
    )
    return list(result.scalars())


# ------------------------------------------------------------------------------------------ usage


async def add_usage(
    session: AsyncSession,
    *,
    tenant_id: str,
    quota: str,
    period_start: datetime,
    amount: int,
    limit: int | None,
    now: datetime,
) -> int | None:
    """Add ``amount`` to a counter unless that passes ``limit``; the new total, or None when refused.

    One INSERT … ON CONFLICT DO UPDATE … WHERE: the row lock makes concurrent callers queue, and each sees
    the total left by the one before, so together they can never pass the limit.
    """
    if limit is not None and amount > limit:
        return None
    dialect = _dialect(session)
    statement = dialect.insert(UsageRecord).values(
        tenant_id=tenant_id, quota=quota, period_start=period_start, used=amount, updated_at=now
    )
    new_total = UsageRecord.__table__.c.used + statement.excluded.used  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "quota", "period_start"],
        set_={"used": new_total, "updated_at": statement.excluded.updated_at},
        where=(new_total <= limit) if limit is not None else None,
    ).returning(UsageRecord.__table__.c.used)  # type: ignore[attr-defined]
    row = (await session.execute(statement)).first()
    return int(row[0]) if row is not None else None


async def release_usage(
    session: AsyncSession, *, tenant_id: str, quota: str, period_start: datetime, amount: int, now: datetime
) -> None:
    """Give back ``amount`` of a counter (never below zero)."""
    rows = await session.execute(
        select(UsageRecord).where(
            col(UsageRecord.tenant_id) == tenant_id,
            col(UsageRecord.quota) == quota,
            col(UsageRecord.period_start) == period_start,
        )
    )
    record = rows.scalar_one_or_none()
    if record is None:
        return
    await session.execute(
        update(UsageRecord)
        .where(
            col(UsageRecord.tenant_id) == tenant_id,
            col(UsageRecord.quota) == quota,
            col(UsageRecord.period_start) == period_start,
        )
        .values(used=max(record.used - amount, 0), updated_at=now)
    )


async def usage_counts(session: AsyncSession, tenant_id: str, keys: list[tuple[str, datetime]]) -> dict[str, int]:
    """Used amounts by quota for the given (quota, period_start) pairs (0 when nothing was counted)."""
    if not keys:
        return {}
    result = await session.execute(
        select(col(UsageRecord.quota), col(UsageRecord.used)).where(
            col(UsageRecord.tenant_id) == tenant_id,
            tuple_(col(UsageRecord.quota), col(UsageRecord.period_start)).in_(keys),
        )
    )
    counts = {quota: 0 for quota, _ in keys}
    counts.update({quota: int(used) for quota, used in result.all()})
    return counts


async def claim_seat(
    session: AsyncSession, *, tenant_id: str, period_start: datetime, actor_id: str, now: datetime
) -> bool:
    """Record that ``actor_id`` holds a seat this period; True when it is new."""
    inserted = await session.execute(
        insert_ignore(session, SeatRecord)
        .values(tenant_id=tenant_id, period_start=period_start, actor_id=actor_id, first_seen_at=now)
        .returning(SeatRecord.__table__.c.actor_id)  # type: ignore[attr-defined]
    )
    return inserted.first() is not None


# ------------------------------------------------------------------------------- provider bookkeeping


async def link_provider_ref(
    session: AsyncSession, *, provider_ref: str, provider: str, tenant_id: str, kind: str, now: datetime
) -> None:
    """Remember which tenant a provider object belongs to (idempotent)."""
    await session.execute(
        insert_ignore(session, ProviderLinkRecord).values(
            provider_ref=provider_ref, provider=provider, tenant_id=tenant_id, kind=kind, created_at=now
        )
    )


async def tenant_of_provider_ref(session: AsyncSession, provider_ref: str) -> str | None:
    """The tenant a provider object belongs to, whatever tenant the transaction is for (ids only).

    On Postgres the links are under RLS like every tenant table; a SECURITY DEFINER function answers this
    one question across tenants.
    """
    if session.get_bind().dialect.name == "postgresql":
        result = await session.execute(text("SELECT promptsales_provider_ref_tenant(:ref)"), {"ref": provider_ref})
    else:
        result = await session.execute(
            select(col(ProviderLinkRecord.tenant_id)).where(col(ProviderLinkRecord.provider_ref) == provider_ref)
        )
    tenant = result.scalar_one_or_none()
    return str(tenant) if tenant is not None else None


async def provider_plan(session: AsyncSession, *, account: str, plan_key: str) -> ProviderPlanRecord | None:
    """The provider billing plan already created for ``plan_key`` on ``account``."""
    result = await session.execute(
        select(ProviderPlanRecord).where(
            col(ProviderPlanRecord.account) == account, col(ProviderPlanRecord.plan_key) == plan_key
        )
    )
    return result.scalar_one_or_none()


async def record_receipt(session: AsyncSession, receipt: WebhookReceiptRecord) -> bool:
    """Store a webhook receipt; False when the event was handled before (a redelivery)."""
    inserted = await session.execute(
        insert_ignore(session, WebhookReceiptRecord)
        .values(**receipt.model_dump())
        .returning(WebhookReceiptRecord.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    return inserted.first() is not None


async def payment_exists(session: AsyncSession, tenant_id: str, provider_payment_id: str) -> bool:
    """Whether the provider's payment is already recorded."""
    result = await session.execute(
        select(col(PaymentRecord.id)).where(
            col(PaymentRecord.tenant_id) == tenant_id, col(PaymentRecord.provider_payment_id) == provider_payment_id
        )
    )
    return result.first() is not None


async def list_payments(
    session: AsyncSession, tenant_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[PaymentRecord]:
    """Payments newest first, keyset-paginated on (occurred_at, id)."""
    query = select(PaymentRecord).where(col(PaymentRecord.tenant_id) == tenant_id)
    if after is not None:
        query = query.where(tuple_(col(PaymentRecord.occurred_at), col(PaymentRecord.id)) < after)
    query = query.order_by(col(PaymentRecord.occurred_at).desc(), col(PaymentRecord.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def receipt_exists(session: AsyncSession, event_id: str) -> bool:
    """Whether a webhook event id was handled before (checked before any network work is done for it)."""
    result = await session.execute(
        select(col(WebhookReceiptRecord.event_id)).where(col(WebhookReceiptRecord.event_id) == event_id)
    )
    return result.first() is not None


async def set_receipt_outcome(session: AsyncSession, event_id: str, outcome: str) -> None:
    """What handling the event did (kept for support)."""
    await session.execute(
        update(WebhookReceiptRecord).where(col(WebhookReceiptRecord.event_id) == event_id).values(outcome=outcome)
    )


async def live_subscriptions(session: AsyncSession, tenant_id: str, *, exclude_id: str) -> list[SubscriptionRecord]:
    """The tenant's other subscriptions that still grant a plan (a new approved one replaces them)."""
    result = await session.execute(
        select(SubscriptionRecord).where(
            col(SubscriptionRecord.tenant_id) == tenant_id,
            col(SubscriptionRecord.id) != exclude_id,
            col(SubscriptionRecord.status).in_(("trialing", "active", "past_due", "suspended")),
        )
    )
    return list(result.scalars())

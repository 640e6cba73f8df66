"""Business persistence records: subscriptions, checkouts, payments, usage counters, seats, webhook receipts.

Tenant tables carry ``tenant_id`` (RLS on Postgres). Provider links say which tenant a PayPal object belongs
to (webhooks arrive without a tenant; a SECURITY DEFINER function answers that across tenants). Provider plans
are global: one merchant account's billing plans for our catalogue, no tenant data.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class SubscriptionRecord(SQLModel, table=True):
    """One subscription of a tenant to a plan (the newest one that is not pending is the current one)."""

    __tablename__ = "business_subscriptions"
    __table_args__ = (Index("ix_business_subscription_tenant_created", "tenant_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    plan_id: str = Field(max_length=32)
    status: str = Field(max_length=16)
    provider: str = Field(max_length=16, description="paypal, or manual for subscriptions granted by an operator")
    provider_subscription_id: str | None = Field(default=None, max_length=64, unique=True)
    current_period_start: datetime = Field(sa_type=UTCDateTime)
    current_period_end: datetime = Field(sa_type=UTCDateTime)
    past_due_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scheduled_plan_id: str | None = Field(default=None, max_length=32)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CheckoutRecord(SQLModel, table=True):
    """A payment the buyer still has to approve: a new subscription, or the prorated price of an upgrade."""

    __tablename__ = "business_checkouts"
    __table_args__ = (Index("ix_business_checkout_tenant_created", "tenant_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    kind: str = Field(max_length=16, description="subscribe or upgrade")
    plan_id: str = Field(max_length=32)
    subscription_id: str = Field(max_length=40)
    provider_ref: str = Field(max_length=64, unique=True)
    approve_url: str = Field(max_length=2048)
    amount: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16, description="pending, completed, declined or superseded")
    created_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentRecord(SQLModel, table=True):
    """A payment the provider reported (recurring charge, prorated upgrade), successful or not."""

    __tablename__ = "business_payments"
    __table_args__ = (Index("ix_business_payment_tenant_time", "tenant_id", "occurred_at", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    provider_payment_id: str = Field(max_length=64, unique=True)
    subscription_id: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=16, description="cycle or proration")
    plan_id: str = Field(max_length=32)
    amount: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16, description="completed, failed or declined")
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class UsageRecord(SQLModel, table=True):
    """How much of a quota a tenant used in a period (stock quotas use one open-ended period)."""

    __tablename__ = "business_usage"

    tenant_id: str = Field(primary_key=True, max_length=64)
    quota: str = Field(primary_key=True, max_length=32)
    period_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    used: int
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SeatRecord(SQLModel, table=True):
    """An actor holding a seat in a tenant for a billing period."""

    __tablename__ = "business_seats"

    tenant_id: str = Field(primary_key=True, max_length=64)
    period_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    actor_id: str = Field(primary_key=True, max_length=128)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)


class WebhookReceiptRecord(SQLModel, table=True):
    """A provider event already handled (deliveries repeat; each event applies once)."""

    __tablename__ = "business_webhook_receipts"

    event_id: str = Field(primary_key=True, max_length=80)
    tenant_id: str = Field(max_length=64)
    event_type: str = Field(max_length=80)
    resource_id: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=200)


class ProviderLinkRecord(SQLModel, table=True):
    """Which tenant a provider object (subscription I-…, order) belongs to."""

    __tablename__ = "business_provider_links"

    provider_ref: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=16)
    tenant_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ProviderPlanRecord(SQLModel, table=True):
    """Global: the provider's billing plan created for one of our plans at one price, per merchant account."""

    __tablename__ = "business_provider_plans"

    account: str = Field(primary_key=True, max_length=64)
    plan_key: str = Field(primary_key=True, max_length=120)
    provider_product_id: str = Field(max_length=64)
    provider_plan_id: str = Field(max_length=64)
    details: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)

"""Campaigns persistence records: campaigns, their transitions, platform objects, budget changes, caps and touches.

Every table carries ``tenant_id`` (RLS on Postgres). A campaign's plan parts (markets, schedule, channels, KPIs,
forecast, influencers) are JSON in the shapes of ``model.plan``; what analytics will join on (platform ids,
tracking parameters) has columns of its own in ``campaigns_objects`` and ``campaigns_touches``.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class CampaignRecord(SQLModel, table=True):
    """One campaign: what it wants, where, when, with how much money, and where it stands."""

    __tablename__ = "campaigns_campaigns"
    __table_args__ = (Index("ix_campaigns_tenant_status", "tenant_id", "status", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    objective: str = Field(max_length=20)
    status: str = Field(max_length=16)
    owner: str | None = Field(default=None, max_length=128)
    product: str = Field(max_length=500)
    industry: str | None = Field(default=None, max_length=80)
    special_ad_category: str = Field(max_length=20)
    product_category: str = Field(max_length=20)
    currency: str = Field(max_length=3)
    budget_total: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    budget_daily: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    landing_url: str = Field(max_length=2000)
    segment_id: str | None = Field(default=None, max_length=40)
    markets: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    schedule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    channels: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    kpis: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    forecast: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    assumptions: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    influencers: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    version: int = Field(default=1)
    created_by: str = Field(max_length=128)
    submitted_by: str | None = Field(default=None, max_length=128)
    approved_by: str | None = Field(default=None, max_length=128)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TransitionRecord(SQLModel, table=True):
    """A lifecycle step of a campaign: from, to, the event, who and why."""

    __tablename__ = "campaigns_transitions"
    __table_args__ = (Index("ix_campaigns_transitions_campaign", "tenant_id", "campaign_id", "at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=40)
    event: str = Field(max_length=20)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    actor_id: str = Field(max_length=128)
    actor_kind: str = Field(max_length=8)
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_type=UTCDateTime)


class PlatformObjectRecord(SQLModel, table=True):
    """Something activation made on a channel: an ad campaign/ad group/ad, an email campaign, a message batch or an
    influencer brief, with the platform's id and the tracking parameters its links carry."""

    __tablename__ = "campaigns_objects"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "local_key", name="uq_campaigns_object_key"),
        Index("ix_campaigns_objects_platform", "tenant_id", "platform", "platform_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=40)
    local_key: str = Field(max_length=200, description="channel/kind/name: one object per planned item")
    channel: str = Field(max_length=32)
    platform: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=200)
    account_id: str | None = Field(default=None, max_length=64)
    platform_id: str | None = Field(default=None, max_length=200)
    parent_key: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=16)
    daily_budget: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    bid: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    creative_id: str | None = Field(default=None, max_length=40)
    tracking: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ChangeRecord(SQLModel, table=True):
    """A change to a running campaign (status, budget) with the value before it, so it can be rolled back."""

    __tablename__ = "campaigns_changes"
    __table_args__ = (Index("ix_campaigns_changes_campaign", "tenant_id", "campaign_id", "at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=40)
    kind: str = Field(max_length=20, description="status or budget")
    channel: str | None = Field(default=None, max_length=32)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    state: str = Field(max_length=16, description="applied, partial or rolled_back")
    reason: str | None = Field(default=None, max_length=500)
    actor_id: str = Field(max_length=128)
    rolled_back_by: str | None = Field(default=None, max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)


class SpendCapsRecord(SQLModel, table=True):
    """The tenant's spend caps; its row is locked while a budget is committed, so concurrent raises queue."""

    __tablename__ = "campaigns_spend_caps"

    tenant_id: str = Field(primary_key=True, max_length=64)
    currency: str = Field(max_length=3)
    per_campaign: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    per_day: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    per_month: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    max_change_factor: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TouchRecord(SQLModel, table=True):
    """A CRM lead captured through a campaign's tracking link (its UTM parameters name the campaign)."""

    __tablename__ = "campaigns_touches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", name="uq_campaigns_touch_event"),
        Index("ix_campaigns_touches_campaign", "tenant_id", "campaign_id", "occurred_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    event_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=40)
    channel: str | None = Field(default=None, max_length=32)
    ad_ref: str | None = Field(default=None, max_length=200)
    lead_id: str = Field(max_length=40)
    contact_id: str = Field(max_length=40)
    new_person: bool
    occurred_at: datetime = Field(sa_type=UTCDateTime)

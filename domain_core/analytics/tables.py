"""Analytics persistence records: daily performance per platform object, journeys' touches and conversions, pull
state, experiments and their assignments.

Every table carries ``tenant_id`` (RLS on Postgres). Performance rows are keyed by platform object and day, so a
re-pulled day replaces the row the platform restated; touches and conversions are keyed by the outbox event (or the
stage a lead reached), so a redelivered event is counted once.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class PerformanceRecord(SQLModel, table=True):
    """One platform object's results on one day (the account's day), in the campaign's currency."""

    __tablename__ = "analytics_performance"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "object_id", "day", name="uq_analytics_performance_day"),
        Index("ix_analytics_performance_campaign", "tenant_id", "campaign_id", "day"),
        Index("ix_analytics_performance_day", "tenant_id", "day"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    day: date
    campaign_id: str = Field(max_length=40)
    channel: str = Field(max_length=32)
    platform: str = Field(max_length=32)
    object_kind: str = Field(max_length=20)
    object_id: str = Field(max_length=200)
    object_name: str = Field(max_length=200)
    ad_ref: str | None = Field(default=None, max_length=200, description="utm_content of the object's links")
    country: str | None = Field(default=None, max_length=2, description="set when the object targets one market")
    impressions: int = 0
    reach: int | None = None
    clicks: int = 0
    spend: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = Field(max_length=3)
    conversions: float = 0.0
    conversion_value: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    pulled_at: datetime = Field(sa_type=UTCDateTime)


class TouchpointRecord(SQLModel, table=True):
    """A step of a person's journey: a capture through a link (its UTM or click id names the channel)."""

    __tablename__ = "analytics_touchpoints"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", name="uq_analytics_touch_event"),
        Index("ix_analytics_touch_contact", "tenant_id", "contact_id", "occurred_at"),
        Index("ix_analytics_touch_campaign", "tenant_id", "campaign_id", "occurred_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    event_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=40)
    lead_id: str = Field(max_length=40)
    channel: str = Field(max_length=32)
    campaign_id: str | None = Field(default=None, max_length=40)
    ad_ref: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    occurred_at: datetime = Field(sa_type=UTCDateTime)


class ConversionRecord(SQLModel, table=True):
    """The first time a lead reached a lifecycle stage, with the deal's value when it was won."""

    __tablename__ = "analytics_conversions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "lead_id", "stage", name="uq_analytics_conversion_stage"),
        Index("ix_analytics_conversion_day", "tenant_id", "stage", "occurred_at"),
        Index("ix_analytics_conversion_contact", "tenant_id", "contact_id", "occurred_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    lead_id: str = Field(max_length=40)
    contact_id: str = Field(max_length=40)
    stage: str = Field(max_length=20)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    occurred_at: datetime = Field(sa_type=UTCDateTime)


class PullRecord(SQLModel, table=True):
    """How far a campaign's platform results were pulled, and when: the next pull restates from there."""

    __tablename__ = "analytics_pulls"

    tenant_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=40)
    through_day: date | None = None
    last_run_at: datetime = Field(sa_type=UTCDateTime)
    rows: int = 0
    errors: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))


class ExperimentRecord(SQLModel, table=True):
    """An A/B experiment: what varies, how units are split, what decides it, and where it stands."""

    __tablename__ = "analytics_experiments"
    __table_args__ = (Index("ix_analytics_experiments_status", "tenant_id", "status", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    subject: str = Field(max_length=20, description="ad, email, landing_page or message")
    campaign_id: str | None = Field(default=None, max_length=40)
    variants: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    primary_metric: str = Field(max_length=32)
    guardrails: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    design: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    looks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    status: str = Field(max_length=12)
    verdict: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_by: str = Field(max_length=128)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class AssignmentRecord(SQLModel, table=True):
    """The variant a contact was shown, first time only (assignment is a hash, so a repeat agrees with it)."""

    __tablename__ = "analytics_assignments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "experiment_id", "unit_id", name="uq_analytics_assignment_unit"),
        Index("ix_analytics_assignment_variant", "tenant_id", "experiment_id", "variant"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    experiment_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=40)
    variant: str = Field(max_length=40)
    assigned_at: datetime = Field(sa_type=UTCDateTime)

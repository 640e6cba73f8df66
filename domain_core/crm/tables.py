"""CRM persistence records (SQLModel). Every row carries ``tenant_id``; RLS guards it on Postgres."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from promptsales.domain_core.crm.model.identity import organization_key
from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


def _name_key_of_inserted_row(context: Any) -> str:
    """Column default of ``crm_organizations.name_key``: the key of the name being inserted."""
    return organization_key(str(context.get_current_parameters()["name"]))


class OrganizationRecord(SQLModel, table=True):
    """A company a contact works for."""

    __tablename__ = "crm_organizations"
    __table_args__ = (
        # The natural key, per tenant: the web domain. Names are not unique (namesakes exist); captures
        # find companies by the folded name under a lock instead (repository.organizations.lock_name).
        Index(
            "uq_crm_org_domain",
            "tenant_id",
            "domain",
            unique=True,
            postgresql_where=text("domain IS NOT NULL"),
            sqlite_where=text("domain IS NOT NULL"),
        ),
        Index("ix_crm_org_tenant_name_key", "tenant_id", "name_key"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    # The name case-folded with spaces collapsed (identity.organization_key): how captures find a company.
    # Filled from the name when an insert leaves it out.
    name_key: str | None = Field(
        default=None, max_length=200, sa_column_kwargs={"default": _name_key_of_inserted_row, "nullable": False}
    )
    domain: str | None = Field(default=None, max_length=253)
    industry: str | None = Field(default=None, max_length=80)
    employee_count: int | None = None
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ContactRecord(SQLModel, table=True):
    """A person. Email and phone are stored normalized; merged contacts point at their survivor."""

    __tablename__ = "crm_contacts"
    __table_args__ = (
        Index(
            "uq_crm_contact_email",
            "tenant_id",
            "email",
            unique=True,
            postgresql_where=text("email IS NOT NULL AND merged_into_id IS NULL"),
            sqlite_where=text("email IS NOT NULL AND merged_into_id IS NULL"),
        ),
        Index(
            "uq_crm_contact_phone",
            "tenant_id",
            "phone",
            unique=True,
            postgresql_where=text("phone IS NOT NULL AND merged_into_id IS NULL"),
            sqlite_where=text("phone IS NOT NULL AND merged_into_id IS NULL"),
        ),
        Index("ix_crm_contact_tenant_org", "tenant_id", "organization_id"),
        Index("ix_crm_contact_tenant_activity", "tenant_id", "last_activity_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    organization_id: str | None = Field(default=None, max_length=40)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=150)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=100)
    owner: str | None = Field(default=None, max_length=128)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    consent_email: str | None = Field(default=None, max_length=10)
    consent_sms: str | None = Field(default=None, max_length=10)
    consent_whatsapp: str | None = Field(default=None, max_length=10)
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    merged_into_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ContactTagRecord(SQLModel, table=True):
    """A tag on a contact (a row per tag keeps tag filters portable SQL)."""

    __tablename__ = "crm_contact_tags"

    tenant_id: str = Field(primary_key=True, max_length=64)
    contact_id: str = Field(primary_key=True, max_length=40)
    tag: str = Field(primary_key=True, max_length=60)


class ConsentEventRecord(SQLModel, table=True):
    """History of consent grants and revocations per channel."""

    __tablename__ = "crm_consent_events"
    __table_args__ = (Index("ix_crm_consent_contact", "tenant_id", "contact_id", "recorded_at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=40)
    channel: str = Field(max_length=10)
    status: str = Field(max_length=10)
    source: str = Field(max_length=80)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class LeadRecord(SQLModel, table=True):
    """A contact's sales record: provenance (first/last touch) and the latest classification."""

    __tablename__ = "crm_leads"
    __table_args__ = (
        Index("ix_crm_lead_tenant_contact", "tenant_id", "contact_id"),
        Index("ix_crm_lead_tenant_stage", "tenant_id", "stage", "id"),
        Index("ix_crm_lead_tenant_score", "tenant_id", "score"),
        Index("ix_crm_lead_tenant_created", "tenant_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=40)
    owner: str | None = Field(default=None, max_length=128)
    source_channel: str = Field(max_length=20)
    campaign_ref: str | None = Field(default=None, max_length=120)
    utm: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    referrer: str | None = Field(default=None, max_length=2048)
    landing_page: str | None = Field(default=None, max_length=2048)
    first_touch_at: datetime = Field(sa_type=UTCDateTime)
    last_touch_at: datetime = Field(sa_type=UTCDateTime)
    touch_count: int = 1
    subscribed_only: bool = False
    qualification: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    score_adjustment: int = 0
    stage: str = Field(max_length=20)
    manual_stage: bool = False
    score: int = 0
    fit_score: int = 0
    engagement_score: int = 0
    purchase_potential: str = Field(max_length=10)
    customer_type: str = Field(max_length=20)
    explanation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    classified_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LeadTouchRecord(SQLModel, table=True):
    """One capture of a lead from a channel (the lead keeps first and last; this keeps them all)."""

    __tablename__ = "crm_lead_touches"
    __table_args__ = (Index("ix_crm_touch_lead", "tenant_id", "lead_id", "occurred_at"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    lead_id: str = Field(max_length=40)
    source_channel: str = Field(max_length=20)
    campaign_ref: str | None = Field(default=None, max_length=120)
    utm: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    referrer: str | None = Field(default=None, max_length=2048)
    landing_page: str | None = Field(default=None, max_length=2048)
    occurred_at: datetime = Field(sa_type=UTCDateTime)


class InteractionRecord(SQLModel, table=True):
    """A conversation or meeting with a contact; feeds engagement and the timeline."""

    __tablename__ = "crm_interactions"
    __table_args__ = (Index("ix_crm_interaction_timeline", "tenant_id", "contact_id", "occurred_at", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    contact_id: str = Field(max_length=40)
    lead_id: str | None = Field(default=None, max_length=40)
    channel: str = Field(max_length=10)
    direction: str = Field(max_length=10)
    summary: str | None = Field(default=None, max_length=4000)
    transcript: str | None = None
    # What the content context's analysis read in the text (intent label, sentiment); feeds engagement.
    intent: str | None = Field(default=None, max_length=40)
    intent_confidence: float | None = None
    sentiment: str | None = Field(default=None, max_length=10)
    sentiment_score: float | None = None
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class SegmentRecord(SQLModel, table=True):
    """A saved audience definition (rule tree as JSON)."""

    __tablename__ = "crm_segments"
    __table_args__ = (Index("uq_crm_segment_name", "tenant_id", "name", unique=True),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    name: str = Field(max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    rule: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class ScoringRulesRecord(SQLModel, table=True):
    """A tenant's scoring rules override (absent: the shipped defaults apply)."""

    __tablename__ = "crm_scoring_rules"

    tenant_id: str = Field(primary_key=True, max_length=64)
    rules: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime)


class FlowRunRecord(SQLModel, table=True):
    """One conversation driven by an attention flow (chat or voice)."""

    __tablename__ = "crm_flow_runs"
    __table_args__ = (Index("ix_crm_flow_run_contact", "tenant_id", "contact_id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    flow_id: str = Field(max_length=80)
    contact_id: str = Field(max_length=40)
    lead_id: str | None = Field(default=None, max_length=40)
    channel: str = Field(max_length=10)
    status: str = Field(max_length=12)
    state: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    transcript: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class FlowDefinitionRecord(SQLModel, table=True):
    """A tenant's own attention flow (shipped flows live in code as data and need no row)."""

    __tablename__ = "crm_flow_definitions"

    tenant_id: str = Field(primary_key=True, max_length=64)
    flow_id: str = Field(primary_key=True, max_length=80)
    definition: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime)

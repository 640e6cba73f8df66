"""Frozen DTOs the CRM facade returns and accepts; tools expose them as typed MCP outputs."""

from datetime import datetime
from typing import Any

from pydantic import Field

from promptsales.domain_core.crm.model.vocabulary import (
    ConsentStatus,
    CustomerType,
    Direction,
    FlowChannel,
    InteractionChannel,
    LifecycleStage,
    PurchasePotential,
    SourceChannel,
)
from promptsales.domain_core.shared.dto import Dto


class Utm(Dto):
    """UTM campaign parameters of a touch."""

    source: str | None = Field(default=None, max_length=200)
    medium: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=200)
    term: str | None = Field(default=None, max_length=200)
    content: str | None = Field(default=None, max_length=200)


class ConsentGrant(Dto):
    """One channel's consent."""

    granted: bool = Field()
    source: str | None = Field(default=None, max_length=80)
    at: datetime | None = Field(default=None)


class ConsentInput(Dto):
    """Consent per channel; omitted ones unchanged."""

    email: ConsentGrant | None = None
    sms: ConsentGrant | None = None
    whatsapp: ConsentGrant | None = None


class ConsentChannelState(Dto):
    """Current consent for one channel."""

    status: ConsentStatus | None
    source: str | None = None
    recorded_at: datetime | None = None


class ConsentState(Dto):
    """Current consent on every channel (status null = never asked)."""

    email: ConsentChannelState
    sms: ConsentChannelState
    whatsapp: ConsentChannelState


class OrganizationView(Dto):
    """A company."""

    id: str
    name: str
    domain: str | None
    industry: str | None
    employee_count: int | None
    country: str | None
    region: str | None
    created_at: datetime


class ContactView(Dto):
    """A person, with normalized email (lower-case) and phone (E.164)."""

    id: str
    organization_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    title: str | None
    country: str | None
    region: str | None
    owner: str | None
    tags: list[str]
    attributes: dict[str, Any]
    consent: ConsentState
    last_activity_at: datetime | None
    merged_into_id: str | None
    created_at: datetime
    updated_at: datetime


class ScoreFactorView(Dto):
    """One factor of a score: what was observed and the points it gave."""

    group: str
    factor: str
    value: str | None
    points: int
    max_points: int
    reason: str


class ClassificationView(Dto):
    """A lead's classification with its full explanation."""

    lead_id: str
    stage: LifecycleStage
    previous_stage: LifecycleStage | None
    stage_reason: str
    score: int = Field(ge=0, le=100)
    fit_score: int
    engagement_score: int
    qualification_score: int
    purchase_potential: PurchasePotential
    customer_type: CustomerType
    seniority: str
    factors: list[ScoreFactorView]
    rules_version: int
    classified_at: datetime


class LeadView(Dto):
    """A lead: provenance, touches and the latest classification."""

    id: str
    contact_id: str
    owner: str | None
    source_channel: SourceChannel
    campaign_ref: str | None
    utm: Utm
    referrer: str | None
    landing_page: str | None
    first_touch_at: datetime
    last_touch_at: datetime
    touch_count: int
    stage: LifecycleStage
    score: int
    purchase_potential: PurchasePotential
    customer_type: CustomerType
    qualification: dict[str, Any]
    classification: ClassificationView
    created_at: datetime


class LeadSummary(Dto):
    """A lead row in listings."""

    id: str
    contact_id: str
    contact_name: str | None
    email: str | None
    source_channel: SourceChannel
    stage: LifecycleStage
    score: int
    purchase_potential: PurchasePotential
    owner: str | None
    last_touch_at: datetime
    created_at: datetime


class CaptureResult(Dto):
    """Outcome of crm_capture_lead: the person and lead, and whether the person was new."""

    contact: ContactView
    lead: LeadView
    created: bool = Field(description="true when a new person was created; false when a touch was appended.")


class InteractionView(Dto):
    """One interaction on the timeline."""

    id: str
    contact_id: str
    lead_id: str | None
    channel: InteractionChannel
    direction: Direction
    summary: str | None
    transcript: str | None
    intent: str | None = Field(default=None, description="Intent read in the text, e.g. demo_request.")
    intent_confidence: float | None = None
    sentiment: str | None = Field(default=None, description="positive, neutral or negative.")
    sentiment_score: float | None = Field(default=None, description="-1 (negative) to 1 (positive).")
    occurred_at: datetime


class ContactSummary(Dto):
    """A contact row in listings and samples."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    organization_id: str | None
    country: str | None
    last_activity_at: datetime | None


class SegmentView(Dto):
    """A saved segment."""

    id: str
    name: str
    description: str | None
    rule: dict[str, Any]
    rule_summary: str
    created_at: datetime


class SegmentPreview(Dto):
    """How many contacts a rule selects now, with a sample."""

    count: int
    rule_summary: str
    sample: list[ContactSummary]


class FlowRunView(Dto):
    """A flow run after a turn: what the bot says next and what was captured."""

    run_id: str
    flow_id: str
    contact_id: str
    channel: FlowChannel
    status: str
    messages: list[str]
    captured: dict[str, Any]
    awaiting: dict[str, Any] | None
    done: bool
    lead_stage: LifecycleStage | None = None
    lead_score: int | None = None


class FlowRunSummary(Dto):
    """A flow run without its turn: which flow, whose, on which channel, and where it stands."""

    run_id: str
    flow_id: str
    contact_id: str
    channel: FlowChannel
    status: str
    updated_at: datetime


class ImportRowError(Dto):
    """Why one CSV row was rejected (row 1 is the first data row after the header)."""

    row: int
    field: str | None
    message: str


class ImportReport(Dto):
    """Outcome of an import: created, updated, unchanged and rejected rows."""

    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[ImportRowError]


class ContactPage(Dto):
    """A page of contacts; pass next_cursor to get the next one."""

    items: list[ContactSummary]
    next_cursor: str | None


class OrganizationPage(Dto):
    """A page of organizations; pass next_cursor to get the next one."""

    items: list[OrganizationView]
    next_cursor: str | None


class LeadPage(Dto):
    """A page of leads, newest first; pass next_cursor to get the next one."""

    items: list[LeadSummary]
    next_cursor: str | None


class SegmentList(Dto):
    """The tenant's saved segments."""

    items: list[SegmentView]


class ScoringRulesView(Dto):
    """The scoring rules in force for the tenant (the full JSON document)."""

    customized: bool
    rules: dict[str, Any]


class FlowSummary(Dto):
    """An attention flow available to the tenant."""

    id: str
    name: str
    description: str
    version: int
    source: str = Field(description="'shipped' or 'tenant'.")


class FlowList(Dto):
    """Flows that crm_start_flow accepts."""

    items: list[FlowSummary]


class Customer360(Dto):
    """Everything known about one person, in one read."""

    contact: ContactView
    organization: OrganizationView | None
    leads: list[LeadView]
    timeline: list[InteractionView]
    timeline_next_cursor: str | None
    segments: list[SegmentView]
    sections: dict[str, dict[str, Any]] = Field(
        description="Parts contributed by other contexts (campaign touches, conversions, plan...)."
    )


class FlowDefinitionView(Dto):
    """A flow definition as JSON (steps, questions, branches)."""

    definition: dict[str, Any]


class SyncedContact(Dto):
    """A contact an external sync wrote: the record, and whether it was created by this sync."""

    contact: ContactView
    created: bool


class SyncedOrganization(Dto):
    """An organization an external sync wrote, and whether this sync created it."""

    organization: OrganizationView
    created: bool


class DealStageOutcome(Dto):
    """What an external deal did to a contact's lead (lead_id None: the contact has no lead)."""

    lead_id: str | None
    stage: str | None
    changed: bool

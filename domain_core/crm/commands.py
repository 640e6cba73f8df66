"""Commands: one frozen model per mutating CRM use case, carried tool -> facade -> service and hashed whole.

Length limits are the storage columns' (``tables.py``), so anything a command accepts can be stored.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from promptsales.domain_core.crm.dto import ConsentInput, Utm
from promptsales.domain_core.crm.model.vocabulary import Direction, FlowChannel, InteractionChannel, SourceChannel
from promptsales.domain_core.shared.commands import Command

PersonName = Annotated[str, Field(max_length=100)]
Email = Annotated[str, Field(max_length=320)]
# Read as typed (national or international); stored as E.164 (at most 16 characters).
Phone = Annotated[str, Field(max_length=40)]
Title = Annotated[str, Field(max_length=150)]
# A code or a country name as typed; stored as its ISO-3166 alpha-2 code.
Country = Annotated[str, Field(max_length=60)]
Region = Annotated[str, Field(max_length=100)]
Owner = Annotated[str, Field(max_length=128)]
OrganizationName = Annotated[str, Field(min_length=1, max_length=200)]
Domain = Annotated[str, Field(max_length=253)]
Industry = Annotated[str, Field(max_length=80)]
EmployeeCount = Annotated[int, Field(ge=0, le=10_000_000)]
Tag = Annotated[str, Field(min_length=1, max_length=60)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Url = Annotated[str, Field(max_length=2048)]
RecordId = Annotated[str, Field(min_length=1, max_length=40)]
FlowId = Annotated[str, Field(min_length=1, max_length=80)]


class CreateOrganization(Command):
    """Create a company; its domain, when given, must be new (names may repeat)."""

    name: OrganizationName
    domain: Domain | None = None
    industry: Industry | None = None
    employee_count: EmployeeCount | None = None
    country: Country | None = None
    region: Region | None = None


class ContactFields(Command):
    """What a contact record holds: the fields creating and updating share."""

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    email: Email | None = None
    phone: Phone | None = None
    title: Title | None = None
    organization_id: RecordId | None = None
    country: Country | None = None
    region: Region | None = None
    owner: Owner | None = None
    tags: Tags | None = None
    attributes: dict[str, Any] | None = None
    consent: ConsentInput | None = None


class CreateContact(ContactFields):
    """Create a person; email and phone must be new among active contacts."""


class UpdateContact(ContactFields):
    """Change some fields of a contact: a field left None stays as it is (tags replace every tag; attributes are
    merged in, a null value deleting the key)."""

    contact_id: RecordId

    def changed_fields(self) -> set[str]:
        """The contact fields this update sets (consent is history, not a field)."""
        return {name for name, value in self if value is not None and name not in ("contact_id", "consent")}


class MergeContacts(Command):
    """Fold a duplicate person into a survivor."""

    survivor_id: RecordId
    duplicate_id: RecordId


class CaptureLead(Command):
    """A lead from any channel with its provenance; the person is found by email, else phone."""

    source_channel: SourceChannel
    email: Email | None = None
    phone: Phone | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    title: Title | None = None
    company: OrganizationName | None = None
    company_domain: Domain | None = None
    industry: Industry | None = None
    employee_count: EmployeeCount | None = None
    country: Country | None = None
    region: Region | None = None
    campaign_ref: Annotated[str, Field(max_length=120)] | None = None
    utm: Utm | None = None
    referrer: Url | None = None
    landing_page: Url | None = None
    occurred_at: datetime | None = None
    consent: ConsentInput | None = None
    owner: Owner | None = None
    subscribed_only: bool = False
    tags: Tags | None = None


class UpdateLead(Command):
    """Assign an owner ('' unassigns) or set a manual stage; a won deal (customer) may carry its value."""

    lead_id: RecordId
    owner: Owner | None = None
    stage: Literal["opportunity", "customer"] | None = None
    clear_manual_stage: bool = False
    deal_value: Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)] | None = None
    deal_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None


class ClassifyLead(Command):
    """Re-score a lead now."""

    lead_id: RecordId


class SetScoringRules(Command):
    """Merge overrides into the tenant's scoring rules (or into the defaults when resetting)."""

    overrides: dict[str, Any]
    reset: bool = False


class LogInteraction(Command):
    """A conversation or meeting with a contact."""

    contact_id: RecordId
    channel: InteractionChannel
    direction: Direction
    summary: Annotated[str, Field(max_length=4000)] | None = None
    transcript: Annotated[str, Field(max_length=100_000)] | None = None
    occurred_at: datetime | None = None
    lead_id: RecordId | None = None

    def text(self) -> str:
        """The text the interaction is analysed by."""
        return "\n".join(part for part in (self.summary, self.transcript) if part)


class CreateSegment(Command):
    """Save a rule under a new name."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=1000)] | None = None
    rule: dict[str, Any]


class StartFlow(Command):
    """Open a chat or voice run of a flow with a contact."""

    flow_id: FlowId
    contact_id: RecordId
    channel: FlowChannel


class AdvanceFlow(Command):
    """The person's answer to the run's pending question."""

    run_id: RecordId
    user_input: Annotated[str, Field(max_length=2000)]
    channel: FlowChannel | None = None


class SyncContact(Command):
    """A person as an external CRM holds it: found by its linked id, else its email, else created.

    Only the fields given are written (the integrations context has already applied its conflict rule);
    ``company`` / ``company_domain`` find or create the organization the way a captured lead's does.
    """

    source: Annotated[str, Field(min_length=1, max_length=32)]
    contact_id: RecordId | None = None
    email: Email | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    phone: Phone | None = None
    title: Title | None = None
    country: Country | None = None
    company: OrganizationName | None = None
    company_domain: Domain | None = None
    tags: Tags | None = None


class SyncOrganization(Command):
    """A company as an external CRM holds it: found by its linked id, else its domain or name, else created.

    Only the fields given are written (the integrations context has already applied its conflict rule).
    """

    source: Annotated[str, Field(min_length=1, max_length=32)]
    organization_id: RecordId | None = None
    name: OrganizationName
    domain: Domain | None = None
    industry: Industry | None = None
    employee_count: EmployeeCount | None = None
    country: Country | None = None


class SyncDealStage(Command):
    """An external deal moved a contact's newest lead (captured from the contact when it has none): an open deal
    makes it an opportunity, a won one a customer."""

    source: Annotated[str, Field(min_length=1, max_length=32)]
    contact_id: RecordId
    stage: Literal["opportunity", "customer"]

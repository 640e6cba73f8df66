"""The CRM's only public surface: every use case, scoped to a caller, returning frozen DTOs.

Thin by design: a mutating method takes the use case's command, opens the unit of work with it (the command
is hashed whole for idempotency) and hands both to the service; a read opens a read-only unit.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from promptsales.domain_core.crm.commands import (
    AdvanceFlow,
    CaptureLead,
    ClassifyLead,
    CreateContact,
    CreateOrganization,
    CreateSegment,
    LogInteraction,
    MergeContacts,
    SetScoringRules,
    StartFlow,
    SyncContact,
    SyncDealStage,
    SyncOrganization,
    UpdateContact,
    UpdateLead,
)
from promptsales.domain_core.crm.dto import (
    CaptureResult,
    ClassificationView,
    ContactPage,
    ContactView,
    Customer360,
    DealStageOutcome,
    FlowList,
    FlowRunSummary,
    FlowRunView,
    ImportReport,
    InteractionView,
    LeadPage,
    LeadView,
    OrganizationPage,
    OrganizationView,
    ScoringRulesView,
    SegmentList,
    SegmentPreview,
    SegmentView,
    SyncedContact,
    SyncedOrganization,
)
from promptsales.domain_core.crm.model.vocabulary import ConsentChannel, FlowChannel
from promptsales.domain_core.crm.service import (
    capture,
    classification,
    contacts,
    customer360,
    external_sync,
    flow_understanding,
    flows,
    import_runner,
    interactions,
    leads,
    organizations,
    segments,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.commands import Command
from promptsales.domain_core.shared.pagination import clamp_page_size

R = TypeVar("R", bound=BaseModel)
C = TypeVar("C", bound=Command)
InteractionAnalysis = Callable[[Caller, str], Awaitable[interactions.Signals]]


class CrmFacade:
    """Use cases of the CRM context."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._sections: dict[str, customer360.SectionProvider] = {}
        self._analyze: InteractionAnalysis | None = None
        self._extract: flow_understanding.AnswerExtraction | None = None

    # Wiring by the composition root
    def add_360_section(self, name: str, provider: customer360.SectionProvider) -> None:
        """Let another context contribute a section of the customer 360 view."""
        self._sections[name] = provider

    def use_interaction_analysis(self, analyze: InteractionAnalysis) -> None:
        """Read intent and sentiment of every logged interaction with ``analyze`` (the content context's)."""
        self._analyze = analyze

    def use_answer_extraction(self, extract: flow_understanding.AnswerExtraction) -> None:
        """Ask ``extract`` (the content context's field extraction) about flow replies the CRM cannot read."""
        self._extract = extract

    async def _run(
        self,
        caller: Caller,
        action: str,
        command: C,
        key: str | None,
        service: Callable[[UnitOfWork, C], Awaitable[R]],
        result_type: type[R],
    ) -> R:
        """One mutating use case: its command, once per idempotency key, in one unit of work."""
        return await self._uow.mutate(
            caller,
            action=action,
            arguments=command,
            idempotency_key=key,
            work=lambda uow: service(uow, command),
            result_type=result_type,
        )

    # Organizations and contacts
    async def create_organization(
        self, caller: Caller, command: CreateOrganization, *, idempotency_key: str | None = None
    ) -> OrganizationView:
        """Create an organization (its domain, or name without one, must be new)."""
        return await self._run(
            caller,
            "crm.create_organization",
            command,
            idempotency_key,
            organizations.create_organization,
            OrganizationView,
        )

    async def search_organizations(
        self, caller: Caller, *, text: str | None, domain: str | None, cursor: str | None, limit: int | None
    ) -> OrganizationPage:
        """Organizations by name or domain."""
        size = clamp_page_size(limit)
        return await self._uow.read(
            caller, lambda uow: organizations.search(uow, text=text, domain=domain, cursor=cursor, limit=size)
        )

    async def create_contact(
        self, caller: Caller, command: CreateContact, *, idempotency_key: str | None = None
    ) -> ContactView:
        """Create a contact."""
        return await self._run(
            caller, "crm.create_contact", command, idempotency_key, contacts.create_contact, ContactView
        )

    async def get_contact(self, caller: Caller, *, contact_id: str) -> ContactView:
        """One contact with tags and consent."""
        return await self._uow.read(caller, lambda uow: contacts.get_contact(uow, contact_id=contact_id))

    async def update_contact(
        self, caller: Caller, command: UpdateContact, *, idempotency_key: str | None = None
    ) -> ContactView:
        """Partially update a contact."""
        return await self._run(
            caller, "crm.update_contact", command, idempotency_key, contacts.update_contact, ContactView
        )

    async def search_contacts(
        self, caller: Caller, *, text: str | None, filters: dict[str, str], cursor: str | None, limit: int | None
    ) -> ContactPage:
        """Search active contacts."""
        size = clamp_page_size(limit)

        async def work(uow: UnitOfWork) -> ContactPage:
            page = await contacts.search_contacts(uow, text=text, filters=filters, cursor=cursor, limit=size)
            return ContactPage(items=page.items, next_cursor=page.next_cursor)

        return await self._uow.read(caller, work)

    async def merge_contacts(
        self, caller: Caller, command: MergeContacts, *, idempotency_key: str | None = None
    ) -> ContactView:
        """Merge a duplicate contact into a survivor."""
        return await self._run(
            caller, "crm.merge_contacts", command, idempotency_key, contacts.merge_contacts, ContactView
        )

    async def sync_contact(
        self, caller: Caller, command: SyncContact, *, idempotency_key: str | None = None
    ) -> SyncedContact:
        """Create or update a contact from an external CRM record (by linked id, else email)."""
        return await self._run(
            caller, "crm.sync_contact", command, idempotency_key, external_sync.sync_contact, SyncedContact
        )

    async def sync_organization(
        self, caller: Caller, command: SyncOrganization, *, idempotency_key: str | None = None
    ) -> SyncedOrganization:
        """Create or update an organization from an external CRM record (by linked id, else domain or name)."""
        return await self._run(
            caller,
            "crm.sync_organization",
            command,
            idempotency_key,
            external_sync.sync_organization,
            SyncedOrganization,
        )

    async def sync_deal_stage(
        self, caller: Caller, command: SyncDealStage, *, idempotency_key: str | None = None
    ) -> DealStageOutcome:
        """Move a contact's newest lead to an external deal's stage (opportunity or customer)."""
        return await self._run(
            caller, "crm.sync_deal_stage", command, idempotency_key, external_sync.sync_deal_stage, DealStageOutcome
        )

    # Leads
    async def capture_lead(
        self, caller: Caller, command: CaptureLead, *, idempotency_key: str | None = None
    ) -> CaptureResult:
        """Capture a lead (upsert by person) and classify it."""
        return await self._run(
            caller, "crm.capture_lead", command, idempotency_key, capture.capture_lead, CaptureResult
        )

    async def get_lead(self, caller: Caller, *, lead_id: str) -> LeadView:
        """One lead."""
        return await self._uow.read(caller, lambda uow: leads.get_lead(uow, lead_id=lead_id))

    async def list_leads(
        self,
        caller: Caller,
        *,
        filters: dict[str, Any],
        segment_id: str | None,
        cursor: str | None,
        limit: int | None,
    ) -> LeadPage:
        """Filtered leads, newest first."""
        size = clamp_page_size(limit)

        async def work(uow: UnitOfWork) -> LeadPage:
            page = await leads.list_leads(uow, filters=filters, segment_id=segment_id, cursor=cursor, limit=size)
            return LeadPage(items=page.items, next_cursor=page.next_cursor)

        return await self._uow.read(caller, work)

    async def update_lead(self, caller: Caller, command: UpdateLead, *, idempotency_key: str | None = None) -> LeadView:
        """Assign an owner or set a manual stage."""
        return await self._run(caller, "crm.update_lead", command, idempotency_key, leads.update_lead, LeadView)

    async def classify_lead(
        self, caller: Caller, command: ClassifyLead, *, idempotency_key: str | None = None
    ) -> ClassificationView:
        """Reclassify a lead now."""
        return await self._run(
            caller, "crm.classify_lead", command, idempotency_key, classification.classify_lead, ClassificationView
        )

    async def get_scoring_rules(self, caller: Caller) -> ScoringRulesView:
        """The rules in force."""
        return await self._uow.read(caller, classification.rules_view)

    async def set_scoring_rules(
        self, caller: Caller, command: SetScoringRules, *, idempotency_key: str | None = None
    ) -> ScoringRulesView:
        """Change the tenant's rules."""
        return await self._run(
            caller, "crm.set_scoring_rules", command, idempotency_key, classification.set_rules, ScoringRulesView
        )

    # Interactions and 360
    async def log_interaction(
        self, caller: Caller, command: LogInteraction, *, idempotency_key: str | None = None
    ) -> InteractionView:
        """Record an interaction; its text is analysed first, outside the transaction, once per key."""
        interactions.check(command)
        analyze, text = self._analyze, command.text()

        async def prepare() -> interactions.Signals | None:
            return await analyze(caller, text) if analyze is not None and text.strip() else None

        return await self._uow.mutate_paid(
            caller,
            action="crm.log_interaction",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, signals: interactions.log_interaction(uow, command, signals),
            result_type=InteractionView,
        )

    async def get_customer_360(
        self, caller: Caller, *, contact_id: str, timeline_cursor: str | None, timeline_limit: int
    ) -> Customer360:
        """The 360° view of one contact."""
        return await self._uow.read(
            caller,
            lambda uow: customer360.customer_360(
                uow,
                contact_id=contact_id,
                timeline_cursor=timeline_cursor,
                timeline_limit=timeline_limit,
                sections=self._sections,
            ),
        )

    # Segments
    async def create_segment(
        self, caller: Caller, command: CreateSegment, *, idempotency_key: str | None = None
    ) -> SegmentView:
        """Save a segment."""
        return await self._run(
            caller, "crm.create_segment", command, idempotency_key, segments.create_segment, SegmentView
        )

    async def preview_segment(
        self, caller: Caller, *, rule: dict[str, Any] | None, segment_id: str | None
    ) -> SegmentPreview:
        """Count and sample for a rule or a saved segment."""
        return await self._uow.read(
            caller, lambda uow: segments.preview_rule_or_segment(uow, rule=rule, segment_id=segment_id)
        )

    async def list_segment_members(
        self,
        caller: Caller,
        *,
        segment_id: str,
        cursor: str | None,
        limit: int | None,
        consented: ConsentChannel | None = None,
    ) -> ContactPage:
        """Current members of a saved segment (only those who granted ``consented``, when given)."""
        size = clamp_page_size(limit)

        async def work(uow: UnitOfWork) -> ContactPage:
            page = await segments.members(uow, segment_id=segment_id, cursor=cursor, limit=size, consented=consented)
            return ContactPage(items=page.items, next_cursor=page.next_cursor)

        return await self._uow.read(caller, work)

    async def list_segments(self, caller: Caller) -> SegmentList:
        """Saved segments."""

        async def work(uow: UnitOfWork) -> SegmentList:
            return SegmentList(items=await segments.list_all(uow))

        return await self._uow.read(caller, work)

    # Flows
    async def list_flows(self, caller: Caller) -> FlowList:
        """Flows available to the tenant."""
        return await self._uow.read(caller, flows.list_flows)

    async def get_flow_definition(self, caller: Caller, *, flow_id: str) -> dict[str, Any]:
        """A flow definition as JSON."""
        return (await self._uow.read(caller, lambda uow: flows.definition_view(uow, flow_id=flow_id))).definition

    async def start_flow(
        self, caller: Caller, command: StartFlow, *, idempotency_key: str | None = None
    ) -> FlowRunView:
        """Start a conversation run."""
        return await self._run(caller, "crm.start_flow", command, idempotency_key, flows.start, FlowRunView)

    async def active_flow_run(self, caller: Caller, *, contact_id: str, channel: FlowChannel) -> FlowRunSummary | None:
        """The contact's active conversation on ``channel`` (the latest one), if any."""
        return await self._uow.read(caller, lambda uow: flows.active_run(uow, contact_id=contact_id, channel=channel))

    async def advance_flow(
        self, caller: Caller, command: AdvanceFlow, *, idempotency_key: str | None = None
    ) -> FlowRunView:
        """Answer the bot's question; a reply the CRM cannot read is first shown to the extractor, once per key."""
        return await self._uow.mutate_paid(
            caller,
            action="crm.advance_flow",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=lambda: flow_understanding.suggest(self._uow, caller, command, self._extract),
            work=lambda uow, suggestion: flows.advance(uow, command, suggestion),
            result_type=FlowRunView,
        )

    # Import
    async def import_leads(
        self, caller: Caller, *, csv_text: str, progress: import_runner.ProgressCallback | None = None
    ) -> ImportReport:
        """Capture every valid row in its own transaction; re-importing the same rows changes nothing."""
        return await import_runner.run_import(self._uow, caller, csv_text=csv_text, progress=progress)

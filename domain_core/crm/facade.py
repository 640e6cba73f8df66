"""The CRM's only public surface: every use case, scoped to a caller, returning frozen DTOs."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from promptsales.domain_core.crm.dto import (
    CaptureResult,
    ClassificationView,
    ConsentInput,
    ContactPage,
    ContactView,
    Customer360,
    FlowDefinitionView,
    FlowList,
    FlowRunView,
    FlowSummary,
    ImportReport,
    InteractionView,
    LeadPage,
    LeadView,
    OrganizationView,
    ScoringRulesView,
    SegmentList,
    SegmentPreview,
    SegmentView,
)
from promptsales.domain_core.crm.model.flows import load_default_flows
from promptsales.domain_core.crm.model.segments import parse_segment_rule
from promptsales.domain_core.crm.service import (
    classification,
    contacts,
    customer360,
    flows,
    import_runner,
    interactions,
    leads,
    segments,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.pagination import clamp_page_size

R = TypeVar("R", bound=BaseModel)
InteractionAnalysis = Callable[[Caller, str], Awaitable[interactions.Signals]]


class CrmFacade:
    """Use cases of the CRM context."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._sections: dict[str, customer360.SectionProvider] = {}
        self._analyze: InteractionAnalysis | None = None

    def add_360_section(self, name: str, provider: customer360.SectionProvider) -> None:
        """Let another context contribute a section of the customer 360 view."""
        self._sections[name] = provider

    async def _mutate(
        self,
        caller: Caller,
        action: str,
        arguments: dict[str, Any],
        key: str | None,
        work: Callable[[UnitOfWork], Awaitable[R]],
        result_type: type[R],
    ) -> R:
        return await self._uow.mutate(
            caller,
            action=action,
            arguments=arguments,
            idempotency_key=key,
            work=work,
            result_type=result_type,
        )

    # Organizations and contacts
    async def create_organization(
        self, caller: Caller, *, idempotency_key: str | None = None, **fields: Any
    ) -> OrganizationView:
        """Create an organization."""
        return await self._mutate(
            caller,
            "crm.create_organization",
            fields,
            idempotency_key,
            lambda uow: contacts.create_organization(uow, **fields),
            OrganizationView,
        )

    async def create_contact(
        self,
        caller: Caller,
        *,
        idempotency_key: str | None = None,
        consent: ConsentInput | None = None,
        **fields: Any,
    ) -> ContactView:
        """Create a contact."""
        arguments = {**fields, "consent": consent.model_dump(mode="json") if consent else None}
        return await self._mutate(
            caller,
            "crm.create_contact",
            arguments,
            idempotency_key,
            lambda uow: contacts.create_contact(uow, consent=consent, **fields),
            ContactView,
        )

    async def get_contact(self, caller: Caller, *, contact_id: str) -> ContactView:
        """One contact with tags and consent."""

        async def work(uow: UnitOfWork) -> ContactView:
            return await contacts.contact_dto(uow, await contacts.load_contact(uow, contact_id))

        return await self._uow.read(caller, work)

    async def update_contact(
        self,
        caller: Caller,
        *,
        contact_id: str,
        changes: dict[str, Any],
        consent: ConsentInput | None = None,
        idempotency_key: str | None = None,
    ) -> ContactView:
        """Partially update a contact."""
        arguments = {
            "contact_id": contact_id,
            "changes": changes,
            "consent": consent.model_dump(mode="json") if consent else None,
        }
        return await self._mutate(
            caller,
            "crm.update_contact",
            arguments,
            idempotency_key,
            lambda uow: contacts.update_contact(uow, contact_id=contact_id, changes=changes, consent=consent),
            ContactView,
        )

    async def search_contacts(
        self,
        caller: Caller,
        *,
        text: str | None,
        filters: dict[str, Any],
        cursor: str | None,
        limit: int | None,
    ) -> ContactPage:
        """Search active contacts."""
        size = clamp_page_size(limit)

        async def work(uow: UnitOfWork) -> ContactPage:
            page = await contacts.search_contacts(uow, text=text, filters=filters, cursor=cursor, limit=size)
            return ContactPage(items=page.items, next_cursor=page.next_cursor)

        return await self._uow.read(caller, work)

    async def merge_contacts(
        self, caller: Caller, *, survivor_id: str, duplicate_id: str, idempotency_key: str | None = None
    ) -> ContactView:
        """Merge a duplicate contact into a survivor."""
        return await self._mutate(
            caller,
            "crm.merge_contacts",
            {"survivor_id": survivor_id, "duplicate_id": duplicate_id},
            idempotency_key,
            lambda uow: contacts.merge_contacts(uow, survivor_id=survivor_id, duplicate_id=duplicate_id),
            ContactView,
        )

    # Leads
    async def capture_lead(self, caller: Caller, *, idempotency_key: str | None = None, **fields: Any) -> CaptureResult:
        """Capture a lead (upsert by person)."""
        arguments = {k: (v.model_dump(mode="json") if hasattr(v, "model_dump") else v) for k, v in fields.items()}
        return await self._mutate(
            caller,
            "crm.capture_lead",
            arguments,
            idempotency_key,
            lambda uow: leads.capture_lead(uow, **fields),
            CaptureResult,
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
            subquery = None
            if segment_id:
                subquery = segments.member_ids_subquery(uow, await segments.load_rule(uow, segment_id))
            page = await leads.list_leads(
                uow,
                filters={**filters, "segment_id": segment_id},
                segment_contacts=subquery,
                cursor=cursor,
                limit=size,
            )
            return LeadPage(items=page.items, next_cursor=page.next_cursor)

        return await self._uow.read(caller, work)

    async def update_lead(
        self,
        caller: Caller,
        *,
        lead_id: str,
        owner: str | None,
        stage: str | None,
        clear_manual_stage: bool,
        idempotency_key: str | None = None,
    ) -> LeadView:
        """Assign an owner or set a manual stage."""
        arguments = {
            "lead_id": lead_id,
            "owner": owner,
            "stage": stage,
            "clear_manual_stage": clear_manual_stage,
        }
        return await self._mutate(
            caller,
            "crm.update_lead",
            arguments,
            idempotency_key,
            lambda uow: leads.update_lead(
                uow, lead_id=lead_id, owner=owner, stage=stage, clear_manual_stage=clear_manual_stage
            ),
            LeadView,
        )

    async def classify_lead(
        self, caller: Caller, *, lead_id: str, idempotency_key: str | None = None
    ) -> ClassificationView:
        """Reclassify a lead now."""
        return await self._mutate(
            caller,
            "crm.classify_lead",
            {"lead_id": lead_id},
            idempotency_key,
            lambda uow: classification.classify_lead(uow, lead_id=lead_id),
            ClassificationView,
        )

    async def get_scoring_rules(self, caller: Caller) -> ScoringRulesView:
        """The rules in force."""

        async def work(uow: UnitOfWork) -> ScoringRulesView:
            from promptsales.domain_core.crm import repository

            custom = await repository.scoring_rules(uow.session, uow.tenant_id)
            rules = await classification.tenant_rules(uow)
            return ScoringRulesView(customized=custom is not None, rules=rules.model_dump(mode="json"))

        return await self._uow.read(caller, work)

    async def set_scoring_rules(
        self, caller: Caller, *, overrides: dict[str, Any], reset: bool, idempotency_key: str | None = None
    ) -> ScoringRulesView:
        """Change the tenant's rules."""

        async def work(uow: UnitOfWork) -> ScoringRulesView:
            rules = await classification.set_rules(uow, overrides=overrides, reset=reset)
            return ScoringRulesView(customized=True, rules=rules.model_dump(mode="json"))

        return await self._mutate(
            caller,
            "crm.set_scoring_rules",
            {"overrides": overrides, "reset": reset},
            idempotency_key,
            work,
            ScoringRulesView,
        )

    # Interactions and 360
    def use_interaction_analysis(self, analyze: InteractionAnalysis) -> None:
        """Read intent and sentiment of every logged interaction with ``analyze`` (the content context's)."""
        self._analyze = analyze

    async def log_interaction(
        self, caller: Caller, *, idempotency_key: str | None = None, **fields: Any
    ) -> InteractionView:
        """Record an interaction (its text is analysed first, outside the transaction)."""
        text = interactions.interaction_text(fields.get("summary"), fields.get("transcript"))
        signals = await self._analyze(caller, text) if self._analyze is not None and text.strip() else None
        return await self._mutate(
            caller,
            "crm.log_interaction",
            fields,
            idempotency_key,
            lambda uow: interactions.log_interaction(uow, signals=signals, **fields),
            InteractionView,
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
                segment_memberships=segments.memberships,
                sections=self._sections,
            ),
        )

    # Segments
    async def create_segment(
        self,
        caller: Caller,
        *,
        name: str,
        description: str | None,
        rule: dict[str, Any],
        idempotency_key: str | None = None,
    ) -> SegmentView:
        """Save a segment."""
        return await self._mutate(
            caller,
            "crm.create_segment",
            {"name": name, "description": description, "rule": rule},
            idempotency_key,
            lambda uow: segments.create_segment(uow, name=name, description=description, rule=rule),
            SegmentView,
        )

    async def preview_segment(
        self, caller: Caller, *, rule: dict[str, Any] | None, segment_id: str | None
    ) -> SegmentPreview:
        """Count and sample for a rule or a saved segment."""

        async def work(uow: UnitOfWork) -> SegmentPreview:
            parsed = await segments.load_rule(uow, segment_id) if segment_id else parse_segment_rule(rule or {})
            return await segments.preview(uow, rule=parsed)

        return await self._uow.read(caller, work)

    async def list_segment_members(
        self, caller: Caller, *, segment_id: str, cursor: str | None, limit: int | None
    ) -> ContactPage:
        """Current members of a saved segment."""
        size = clamp_page_size(limit)

        async def work(uow: UnitOfWork) -> ContactPage:
            page = await segments.members(uow, segment_id=segment_id, cursor=cursor, limit=size)
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
        shipped = load_default_flows()

        async def work(uow: UnitOfWork) -> FlowList:
            defined = await flows.all_definitions(uow)
            return FlowList(
                items=[
                    FlowSummary(
                        id=f.id,
                        name=f.name,
                        description=f.description,
                        version=f.version,
                        source="tenant" if shipped.get(f.id) != f else "shipped",
                    )
                    for f in defined.values()
                ]
            )

        return await self._uow.read(caller, work)

    async def get_flow_definition(self, caller: Caller, *, flow_id: str) -> dict[str, Any]:
        """A flow definition as JSON."""

        async def work(uow: UnitOfWork) -> FlowDefinitionView:
            flow = await flows.definition(uow, flow_id)
            return FlowDefinitionView(definition=flow.model_dump(mode="json"))

        return (await self._uow.read(caller, work)).definition

    async def start_flow(
        self,
        caller: Caller,
        *,
        flow_id: str,
        contact_id: str,
        channel: str,
        idempotency_key: str | None = None,
    ) -> FlowRunView:
        """Start a conversation run."""
        arguments = {"flow_id": flow_id, "contact_id": contact_id, "channel": channel}
        return await self._mutate(
            caller,
            "crm.start_flow",
            arguments,
            idempotency_key,
            lambda uow: flows.start(uow, flow_id=flow_id, contact_id=contact_id, channel=channel),
            FlowRunView,
        )

    async def advance_flow(
        self,
        caller: Caller,
        *,
        run_id: str,
        user_input: str,
        channel: str | None,
        idempotency_key: str | None = None,
    ) -> FlowRunView:
        """Answer the bot's question in a run."""
        arguments = {"run_id": run_id, "user_input": user_input, "channel": channel}
        return await self._mutate(
            caller,
            "crm.advance_flow",
            arguments,
            idempotency_key,
            lambda uow: flows.advance(uow, run_id=run_id, user_input=user_input, channel=channel),
            FlowRunView,
        )

    # Import
    async def import_leads(
        self, caller: Caller, *, csv_text: str, progress: import_runner.ProgressCallback | None = None
    ) -> ImportReport:
        """Capture every valid row in its own transaction; re-importing the same rows changes nothing."""
        return await import_runner.run_import(self._uow, caller, csv_text=csv_text, progress=progress)

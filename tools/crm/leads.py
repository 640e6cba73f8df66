"""CRM tools for leads, classification and interactions."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.crm.commands import (
    CaptureLead,
    ClassifyLead,
    LogInteraction,
    SetScoringRules,
    UpdateLead,
)
from promptsales.domain_core.crm.dto import (
    CaptureResult,
    ClassificationView,
    InteractionView,
    LeadPage,
    LeadView,
    ScoringRulesView,
)
from promptsales.domain_core.crm.model.vocabulary import (
    Direction,
    InteractionChannel,
    LifecycleStage,
    SourceChannel,
)
from promptsales.domain_core.shared.decimals import decimal_schema
from promptsales.tools.context import (
    CREATE,
    READ,
    REPLACE,
    UPSERT,
    Cursor,
    IdempotencyKey,
    JsonObject,
    Limit,
    ToolRuntime,
)
from promptsales.tools.crm.fields import (
    ConsentArg,
    ContactId,
    Country,
    Email,
    EmployeeCount,
    LeadId,
    Name,
    Owner,
    Phone,
    Region,
    SegmentId,
    Tags,
    Title,
    UtmArg,
)

Url = Annotated[str | None, Field(default=None, max_length=2048)]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the lead, classification and interaction tools to ``mcp``."""

    # Not idempotent: every call appends a touch (touch_count, engagement score) unless idempotency_key is reused.
    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def capture_lead(
        ctx: Context,
        source_channel: Annotated[SourceChannel, Field()],
        email: Email = None,
        phone: Phone = None,
        first_name: Name = None,
        last_name: Name = None,
        title: Title = None,
        company: Annotated[str | None, Field(default=None, max_length=200)] = None,
        company_domain: Annotated[str | None, Field(default=None, max_length=253, description="e.g. acme.com.")] = None,
        industry: Annotated[str | None, Field(default=None, max_length=80, description="e.g. software.")] = None,
        employee_count: EmployeeCount = None,
        country: Country = None,
        region: Region = None,
        campaign_ref: Annotated[
            str | None, Field(default=None, max_length=120, description="Campaign id/name.")
        ] = None,
        utm: UtmArg = None,
        referrer: Url = None,
        landing_page: Url = None,
        occurred_at: Annotated[datetime | None, Field(default=None, description="Default now.")] = None,
        consent: ConsentArg = None,
        owner: Owner = None,
        subscribed_only: Annotated[bool, Field(description="Newsletter only, no sales intent.")] = False,
        tags: Tags = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CaptureResult:
        """Record a lead from any channel with its provenance; a known person (email, else phone) gets a new touch.
        Returns the classified lead."""
        command = CaptureLead(
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            title=title,
            company=company,
            company_domain=company_domain,
            industry=industry,
            employee_count=employee_count,
            country=country,
            region=region,
            source_channel=source_channel,
            campaign_ref=campaign_ref,
            utm=utm,
            referrer=referrer,
            landing_page=landing_page,
            occurred_at=occurred_at,
            consent=consent,
            owner=owner,
            subscribed_only=subscribed_only,
            tags=tags,
        )
        return await runtime.crm.capture_lead(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def get_lead(ctx: Context, lead_id: LeadId) -> LeadView:
        """Read one lead: provenance, stage, score and its explanation."""
        return await runtime.crm.get_lead(runtime.caller(ctx), lead_id=lead_id)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def list_leads(
        ctx: Context,
        stage: LifecycleStage | None = None,
        min_score: Annotated[int | None, Field(default=None, ge=0, le=100)] = None,
        max_score: Annotated[int | None, Field(default=None, ge=0, le=100)] = None,
        source: SourceChannel | None = None,
        segment_id: Annotated[SegmentId | None, Field(default=None)] = None,
        owner: Owner = None,
        created_from: Annotated[datetime | None, Field(default=None)] = None,
        created_to: Annotated[datetime | None, Field(default=None)] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> LeadPage:
        """List leads newest first, filtered by stage, score, source, segment, owner or date."""
        filters: dict[str, Any] = {
            "stage": stage,
            "min_score": min_score,
            "max_score": max_score,
            "source": source,
            "owner": owner,
            "created_from": created_from,
            "created_to": created_to,
        }
        return await runtime.crm.list_leads(
            runtime.caller(ctx),
            filters={k: v for k, v in filters.items() if v is not None},
            segment_id=segment_id,
            cursor=cursor,
            limit=limit,
        )

    @mcp.tool(annotations=UPSERT, tags={"crm", "write"})
    async def update_lead(
        ctx: Context,
        lead_id: LeadId,
        owner: Annotated[str | None, Field(default=None, max_length=128, description="'' unassigns.")] = None,
        stage: Annotated[
            Literal["opportunity", "customer"] | None,
            Field(default=None, description="Manual stage; kept until cleared."),
        ] = None,
        clear_manual_stage: Annotated[bool, Field()] = False,
        deal_value: Annotated[
            Annotated[Decimal, Field(ge=0, decimal_places=2), decimal_schema(minimum=0, maximum=999_999_999_999)]
            | None,
            Field(description="Won deal value."),
        ] = None,
        deal_currency: Annotated[
            Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")] | None,
            Field(description="With deal_value."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> LeadView:
        """Assign a lead's owner or set a manual stage; a won deal may carry its value (counted as revenue)."""
        command = UpdateLead(
            lead_id=lead_id,
            owner=owner,
            stage=stage,
            clear_manual_stage=clear_manual_stage,
            deal_value=deal_value,
            deal_currency=deal_currency,
        )
        return await runtime.crm.update_lead(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=UPSERT, tags={"crm", "write"})
    async def classify_lead(
        ctx: Context, lead_id: LeadId, idempotency_key: IdempotencyKey = None
    ) -> ClassificationView:
        """Re-score a lead now: stage, score, potential, customer type and each factor's points."""
        command = ClassifyLead(lead_id=lead_id)
        return await runtime.crm.classify_lead(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def get_scoring_rules(ctx: Context) -> ScoringRulesView:
        """The lead scoring rules and stage thresholds in force."""
        return await runtime.crm.get_scoring_rules(runtime.caller(ctx))

    @mcp.tool(annotations=REPLACE, tags={"crm", "write", "admin"})
    async def set_scoring_rules(
        ctx: Context,
        overrides: Annotated[
            JsonObject,
            Field(description='Merged in, e.g. {"stages": {"mql_min_score": 45}}.'),
        ],
        reset: Annotated[bool, Field(description="Start from shipped defaults.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> ScoringRulesView:
        """Change the scoring rules (validated as a whole); run crm_classify_lead to refresh existing leads."""
        command = SetScoringRules(overrides=overrides, reset=reset)
        return await runtime.crm.set_scoring_rules(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def log_interaction(
        ctx: Context,
        contact_id: ContactId,
        channel: InteractionChannel,
        direction: Direction,
        summary: Annotated[str | None, Field(default=None, max_length=4000, description="Or give transcript.")] = None,
        transcript: Annotated[str | None, Field(default=None, max_length=100_000)] = None,
        occurred_at: Annotated[datetime | None, Field(default=None)] = None,
        lead_id: Annotated[LeadId | None, Field(default=None, description="Default: latest lead.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> InteractionView:
        """Record a chat, call, email, message, meeting or visit with a contact; re-scores the lead."""
        command = LogInteraction(
            contact_id=contact_id,
            channel=channel,
            direction=direction,
            summary=summary,
            transcript=transcript,
            occurred_at=occurred_at,
            lead_id=lead_id,
        )
        return await runtime.crm.log_interaction(runtime.caller(ctx), command, idempotency_key=idempotency_key)

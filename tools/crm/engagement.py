"""CRM tools for segments, the customer 360 view, attention flows and CSV import."""

import json
from typing import Annotated

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.crm.commands import AdvanceFlow, CreateSegment, StartFlow
from promptsales.domain_core.crm.dto import (
    ContactPage,
    Customer360,
    FlowList,
    FlowRunView,
    ImportReport,
    SegmentList,
    SegmentPreview,
    SegmentView,
)
from promptsales.domain_core.crm.model.vocabulary import FlowChannel
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.tools.context import CREATE, READ, UPSERT, Cursor, IdempotencyKey, JsonObject, Limit, ToolRuntime
from promptsales.tools.crm.fields import ContactId, RunId, SegmentId

RULE_HELP = (
    'Rule: {"all"|"any": [conditions or groups]}; condition {"field","op","value"}. Fields: customer_type, '
    "industry, company_size, country, region, purchase_potential, stage, score, source, owner, tags, "
    "consent.email|sms|whatsapp, last_activity, created, email_domain, title. Ops: eq, neq, in, gt, gte, lt, lte, "
    "contains, exists, within_days."
)
# The HTTP body limit is sized from this (at most 4 bytes per character, plus the JSON-RPC envelope).
MAX_CSV_CHARS = 1_000_000
CSV_HELP = (
    "CSV with header, at most 1,000,000 characters (split bigger files). Columns: email and/or phone (required), "
    "first_name, last_name, title, company, company_domain, industry, employee_count, country, region, source, "
    "campaign, utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page, occurred_at, "
    "consent_email, consent_sms, consent_whatsapp (yes/no), tags (a;b), owner."
)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add segment, 360, flow and import tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"crm", "write"}, description=f"Save a named audience segment. {RULE_HELP}")
    async def create_segment(
        ctx: Context,
        name: Annotated[str, Field(min_length=1, max_length=120, description="Unique segment name.")],
        rule: Annotated[JsonObject, Field()],
        description: Annotated[str | None, Field(default=None, max_length=1000)] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> SegmentView:
        command = CreateSegment(name=name, description=description, rule=rule)
        return await runtime.crm.create_segment(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(
        annotations=READ,
        tags={"crm", "read"},
        description="Count the contacts a rule (as in crm_create_segment) or saved segment selects now, with a sample.",
    )
    async def preview_segment(
        ctx: Context,
        rule: Annotated[JsonObject | None, Field(default=None)] = None,
        segment_id: Annotated[SegmentId | None, Field(default=None, description="Or a saved segment.")] = None,
    ) -> SegmentPreview:
        if (rule is None) == (segment_id is None):
            raise ValidationFailed("Give exactly one of rule or segment_id.", field="rule")
        return await runtime.crm.preview_segment(runtime.caller(ctx), rule=rule, segment_id=segment_id)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def list_segment_members(
        ctx: Context, segment_id: SegmentId, cursor: Cursor = None, limit: Limit = 20
    ) -> ContactPage:
        """The contacts in a saved segment now, paginated."""
        return await runtime.crm.list_segment_members(
            runtime.caller(ctx), segment_id=segment_id, cursor=cursor, limit=limit
        )

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def list_segments(ctx: Context) -> SegmentList:
        """The tenant's saved segments with a summary of each rule."""
        return await runtime.crm.list_segments(runtime.caller(ctx))

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def get_customer_360(
        ctx: Context,
        contact_id: ContactId,
        timeline_limit: Annotated[int, Field(ge=1, le=50)] = 20,
        timeline_cursor: Cursor = None,
    ) -> Customer360:
        """Everything about one person: contact, organization, scored leads, timeline, segments, consent."""
        return await runtime.crm.get_customer_360(
            runtime.caller(ctx),
            contact_id=contact_id,
            timeline_cursor=timeline_cursor,
            timeline_limit=timeline_limit,
        )

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def list_flows(ctx: Context) -> FlowList:
        """Bot conversation flows crm_start_flow accepts."""
        return await runtime.crm.list_flows(runtime.caller(ctx))

    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def start_flow(
        ctx: Context,
        flow_id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=80,
                pattern=r"^[a-z0-9][a-z0-9_-]*$",
                description="e.g. bant-qualification.",
            ),
        ],
        contact_id: ContactId,
        channel: Annotated[FlowChannel, Field()],
        idempotency_key: IdempotencyKey = None,
    ) -> FlowRunView:
        """Start a bot conversation with a contact; returns run_id and the first message. Relay replies with
        crm_advance_flow."""
        command = StartFlow(flow_id=flow_id, contact_id=contact_id, channel=channel)
        return await runtime.crm.start_flow(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def advance_flow(
        ctx: Context,
        run_id: RunId,
        user_input: Annotated[str, Field(max_length=2000)],
        channel: Annotated[FlowChannel | None, Field(default=None, description="Switch chat/voice.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> FlowRunView:
        """Give the person's answer to a running flow in their words; saves it, re-scores the lead, done=true at the
        end."""
        command = AdvanceFlow(run_id=run_id, user_input=user_input, channel=channel)
        return await runtime.crm.advance_flow(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=UPSERT, tags={"crm", "write", "import"})
    async def import_leads(
        ctx: Context,
        csv_text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_CSV_CHARS,
                description=CSV_HELP,
            ),
        ],
    ) -> ImportReport:
        """Import leads from CSV text (upsert by person); returns invalid rows with their field. Re-importing changes
        nothing."""

        async def progress(done: int, total: int) -> None:
            await ctx.report_progress(done, total, f"{done}/{total} rows")

        return await runtime.crm.import_leads(runtime.caller(ctx), csv_text=csv_text, progress=progress)

    @mcp.resource(
        "crm://scoring-rules",
        mime_type="application/json",
        description="The scoring rules in force for this tenant.",
    )
    async def scoring_rules_resource(ctx: Context) -> str:
        view = await runtime.crm.get_scoring_rules(runtime.caller(ctx))
        return json.dumps(view.rules)

    @mcp.resource("crm://flows", mime_type="application/json", description="Attention flows available.")
    async def flows_resource(ctx: Context) -> str:
        flows = await runtime.crm.list_flows(runtime.caller(ctx))
        return flows.model_dump_json()

    @mcp.resource("crm://flows/{flow_id}", mime_type="application/json", description="One flow definition.")
    async def flow_resource(flow_id: str, ctx: Context) -> str:
        return json.dumps(await runtime.crm.get_flow_definition(runtime.caller(ctx), flow_id=flow_id))

"""Campaigns tools for review: compliance findings, submitting a plan, and a person's approval."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.campaigns.commands import DecideCampaign, SubmitCampaign
from promptsales.domain_core.campaigns.dto import ComplianceView, DecisionResult, SubmitResult
from promptsales.tools.campaigns.fields import CampaignId, OptionalReason, Reason
from promptsales.tools.context import CREATE, READ, IdempotencyKey, ToolRuntime


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the review tools to ``mcp``."""

    @mcp.tool(annotations=READ, tags={"campaigns", "read"})
    async def check_compliance(ctx: Context, campaign_id: CampaignId) -> ComplianceView:
        """Compliance findings for a campaign, with severity and fix. Run before campaigns_submit_for_review."""
        return await runtime.campaigns.check_compliance(runtime.caller(ctx), campaign_id=campaign_id)

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write"})
    async def submit_for_review(
        ctx: Context, campaign_id: CampaignId, note: OptionalReason = None, idempotency_key: IdempotencyKey = None
    ) -> SubmitResult:
        """Ask for a planned campaign's approval; refused while a blocking finding stands."""
        command = SubmitCampaign(campaign_id=campaign_id, note=note)
        return await runtime.campaigns.submit_for_review(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=CREATE, tags={"campaigns", "write", "scope:campaigns:approve"})
    async def approve_campaign(
        ctx: Context,
        campaign_id: CampaignId,
        decision: Annotated[Literal["approve", "reject"], Field()],
        note: Reason,
        idempotency_key: IdempotencyKey = None,
    ) -> DecisionResult:
        """Approve or reject a campaign in review (needs campaigns:approve; not the submitter)."""
        command = DecideCampaign(campaign_id=campaign_id, decision=decision, note=note)
        return await runtime.campaigns.decide(runtime.caller(ctx), command, idempotency_key=idempotency_key)

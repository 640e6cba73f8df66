"""Campaigns tools for live campaigns: pause, resume, end, move a budget, and undo such a change."""

from typing import Annotated, Literal

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.campaigns.commands import ChangeStatus, RollbackChange, UpdateBudget
from promptsales.domain_core.campaigns.dto import ChangeResult
from promptsales.tools.campaigns.fields import CampaignId, ChannelId, ConfirmationToken, DailyBudget, Reason
from promptsales.tools.context import IdempotencyKey, ToolRuntime

# Each reaches the ad and email platforms (open world); a repeat without the key is refused or changes again.
# Stops delivery, or replaces what is delivering: destructive.
STOP = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)
# Starts delivery again and replaces nothing.
RESTART = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)

ChangeId = Annotated[
    str,
    Field(min_length=4, max_length=40, pattern=r"^chg_[0-9A-Za-z]+$"),
]


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the tools that change live campaigns to ``mcp``."""

    async def change(
        ctx: Context,
        campaign_id: str,
        action: Literal["pause", "resume", "end"],
        reason: str,
        key: str | None,
        *,
        archive: bool = False,
    ) -> ChangeResult:
        command = ChangeStatus(campaign_id=campaign_id, action=action, reason=reason, archive=archive)
        return await runtime.campaigns.change_status(runtime.caller(ctx), command, idempotency_key=key)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def pause_campaign(
        ctx: Context, campaign_id: CampaignId, reason: Reason, idempotency_key: IdempotencyKey = None
    ) -> ChangeResult:
        """Pause a live campaign on every platform; undo with campaigns_resume_campaign."""
        return await change(ctx, campaign_id, "pause", reason, idempotency_key)

    @mcp.tool(annotations=RESTART, tags={"campaigns", "write"})
    async def resume_campaign(
        ctx: Context, campaign_id: CampaignId, reason: Reason, idempotency_key: IdempotencyKey = None
    ) -> ChangeResult:
        """Resume a paused campaign on every platform."""
        return await change(ctx, campaign_id, "resume", reason, idempotency_key)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def end_campaign(
        ctx: Context,
        campaign_id: CampaignId,
        reason: Reason,
        archive: Annotated[bool, Field(description="Also archive.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> ChangeResult:
        """End a campaign for good (archive=true also archives it)."""
        return await change(ctx, campaign_id, "end", reason, idempotency_key, archive=archive)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def update_budget(
        ctx: Context,
        campaign_id: CampaignId,
        daily_budget: DailyBudget,
        reason: Reason,
        channel: Annotated[ChannelId | None, Field(default=None, description="Omit for all.")] = None,
        confirmation_token: Annotated[
            ConfirmationToken | None, Field(default=None, description="From needs_confirmation.")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ChangeResult:
        """Set a live campaign's daily budget within the spend caps; a large step returns needs_confirmation."""
        command = UpdateBudget(
            campaign_id=campaign_id,
            daily_budget=daily_budget,
            channel=channel,
            reason=reason,
            confirmation_token=confirmation_token,
        )
        return await runtime.campaigns.update_budget(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def rollback_change(
        ctx: Context,
        campaign_id: CampaignId,
        change_id: ChangeId,
        reason: Reason,
        idempotency_key: IdempotencyKey = None,
    ) -> ChangeResult:
        """Undo a recorded change (campaigns_get_campaign lists them) on every platform."""
        command = RollbackChange(campaign_id=campaign_id, change_id=change_id, reason=reason)
        return await runtime.campaigns.rollback_change(runtime.caller(ctx), command, idempotency_key=idempotency_key)

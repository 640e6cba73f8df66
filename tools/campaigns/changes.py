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
    Field(min_length=4, max_length=40, pattern=r"^chg_[0-9A-Za-z]+$", description="The change (chg_…) to undo."),
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
        """Pause every platform object of a live campaign (delivery stops, nothing is removed). Returns the change
        recorded; campaigns_rollback_change or campaigns_resume_campaign undoes it."""
        return await change(ctx, campaign_id, "pause", reason, idempotency_key)

    @mcp.tool(annotations=RESTART, tags={"campaigns", "write"})
    async def resume_campaign(
        ctx: Context, campaign_id: CampaignId, reason: Reason, idempotency_key: IdempotencyKey = None
    ) -> ChangeResult:
        """Resume a paused campaign on every platform it runs on. Returns the change recorded."""
        return await change(ctx, campaign_id, "resume", reason, idempotency_key)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def end_campaign(
        ctx: Context,
        campaign_id: CampaignId,
        reason: Reason,
        archive: Annotated[bool, Field(description="Also archive it (ends a campaign that never ran).")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> ChangeResult:
        """End a campaign for good: its platform objects stop delivering and it is completed (archive=true also
        archives it, or archives a campaign that never went live)."""
        return await change(ctx, campaign_id, "end", reason, idempotency_key, archive=archive)

    @mcp.tool(annotations=STOP, tags={"campaigns", "write"})
    async def update_budget(
        ctx: Context,
        campaign_id: CampaignId,
        daily_budget: DailyBudget,
        reason: Reason,
        channel: Annotated[ChannelId | None, Field(default=None, description="One channel; omit to scale all.")] = None,
        confirmation_token: Annotated[
            ConfirmationToken | None, Field(default=None, description="The token a needs_confirmation answer gave.")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ChangeResult:
        """Set a live campaign's daily budget on its platforms, within the tenant's spend caps. A step larger than
        allowed returns needs_confirmation: call again with its confirmation_token."""
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
        """Restore the status or budgets a change (campaigns_get_campaign lists them) replaced, on every platform
        it touched."""
        command = RollbackChange(campaign_id=campaign_id, change_id=change_id, reason=reason)
        return await runtime.campaigns.rollback_change(runtime.caller(ctx), command, idempotency_key=idempotency_key)

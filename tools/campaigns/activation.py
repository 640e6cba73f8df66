"""Campaigns tools for activation, in two phases: preview what would be created and spent, then confirm it."""

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

from promptsales.domain_core.campaigns.commands import ActivateCampaign
from promptsales.domain_core.campaigns.dto import ActivationPreview, ActivationResult
from promptsales.tools.campaigns.fields import CampaignId, ConfirmationToken
from promptsales.tools.context import CREATE, IdempotencyKey, ToolRuntime

# Writes a one-use confirmation token (so not read-only); changes nothing on the platforms.
PREVIEW = CREATE
# Creates and enables objects on ad and email platforms (open world); starts spending, replaces nothing.
ACTIVATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the activation tools to ``mcp``."""

    @mcp.tool(annotations=PREVIEW, tags={"campaigns", "write"})
    async def preview_activation(
        ctx: Context, campaign_id: CampaignId, idempotency_key: IdempotencyKey = None
    ) -> ActivationPreview:
        """What activation would create and spend, with the confirmation_token for campaigns_activate_campaign."""
        return await runtime.campaigns.preview_activation(
            runtime.caller(ctx), campaign_id=campaign_id, idempotency_key=idempotency_key
        )

    @mcp.tool(annotations=ACTIVATE, tags={"campaigns", "write"})
    async def activate_campaign(
        ctx: Context,
        campaign_id: CampaignId,
        confirmation_token: ConfirmationToken,
        idempotency_key: IdempotencyKey = None,
    ) -> ActivationResult:
        """Launch the previewed campaign on its platforms; returns platform ids and tracking URLs."""
        command = ActivateCampaign(campaign_id=campaign_id, confirmation_token=confirmation_token)
        return await runtime.campaigns.activate(runtime.caller(ctx), command, idempotency_key=idempotency_key)

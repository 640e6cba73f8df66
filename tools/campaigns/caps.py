"""Campaigns tools for the tenant's spend caps, which activation and budget changes are held to."""

from decimal import Decimal

from fastmcp import Context, FastMCP

from promptsales.domain_core.campaigns.commands import SetSpendCaps
from promptsales.domain_core.campaigns.dto import SpendCapsView
from promptsales.tools.campaigns.fields import Cap, ChangeFactor, Currency
from promptsales.tools.context import READ, REPLACE, IdempotencyKey, ToolRuntime


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the spend-cap tools to ``mcp``."""

    @mcp.tool(annotations=READ, tags={"campaigns", "read"})
    async def get_spend_caps(ctx: Context) -> SpendCapsView:
        """The tenant's spend caps and what live campaigns commit against them."""
        return await runtime.campaigns.get_spend_caps(runtime.caller(ctx))

    @mcp.tool(annotations=REPLACE, tags={"campaigns", "write", "admin"})
    async def set_spend_caps(
        ctx: Context,
        currency: Currency,
        per_campaign: Cap = None,
        per_day: Cap = None,
        per_month: Cap = None,
        max_change_factor: ChangeFactor = Decimal(2),
        idempotency_key: IdempotencyKey = None,
    ) -> SpendCapsView:
        """Replace the tenant's spend caps (admin); an omitted cap is lifted."""
        command = SetSpendCaps(
            currency=currency,
            per_campaign=per_campaign,
            per_day=per_day,
            per_month=per_month,
            max_change_factor=max_change_factor,
        )
        return await runtime.campaigns.set_spend_caps(runtime.caller(ctx), command, idempotency_key=idempotency_key)

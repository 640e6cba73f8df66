"""Business tools for the PayPal account that bills the tenant (live mode: the tenant's own app)."""

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

from promptsales.domain_core.business.commands import (
    PayPalClientId,
    PayPalClientSecret,
    PayPalWebhookId,
    SetPaypalAccount,
)
from promptsales.domain_core.business.dto import PaymentAccountView
from promptsales.tools.context import READ, IdempotencyKey, ToolRuntime

# Replaces stored credentials (destructive, idempotent) after checking them with PayPal (open world).
STORE_CREDENTIALS = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the payment-account tools to ``mcp``."""

    @mcp.tool(annotations=STORE_CREDENTIALS, tags={"business", "write", "admin", "scope:billing:manage"})
    async def set_paypal_account(
        ctx: Context,
        client_id: PayPalClientId,
        client_secret: PayPalClientSecret,
        webhook_id: PayPalWebhookId,
        idempotency_key: IdempotencyKey = None,
    ) -> PaymentAccountView:
        """Bill this tenant through its own PayPal app (live only); credentials are checked, then stored encrypted."""
        command = SetPaypalAccount(client_id=client_id, client_secret=client_secret, webhook_id=webhook_id)
        return await runtime.business.set_paypal_account(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"business", "read"})
    async def get_paypal_account(ctx: Context) -> PaymentAccountView:
        """Which PayPal account bills the tenant."""
        return await runtime.business.get_paypal_account(runtime.caller(ctx))

"""Business tools for the PayPal account that bills the tenant (live mode: the tenant's own app)."""

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field, SecretStr

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
        client_id: Annotated[str, Field(min_length=1, max_length=200, description="PayPal REST app client id.")],
        client_secret: Annotated[
            SecretStr, Field(min_length=1, max_length=200, description="PayPal REST app secret (stored sealed).")
        ],
        webhook_id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                pattern=r"^[A-Za-z0-9]+$",
                description="Id of the PayPal webhook pointing at this deployment's /webhooks/paypal.",
            ),
        ],
        idempotency_key: IdempotencyKey = None,
    ) -> PaymentAccountView:
        """Bill this tenant through its own PayPal app (live mode only). The credentials are checked with PayPal,
        then stored encrypted (AES-256-GCM); the secret is never shown again. Replaces earlier credentials."""
        return await runtime.business.set_paypal_account(
            runtime.caller(ctx),
            client_id=client_id,
            client_secret=client_secret.get_secret_value(),
            webhook_id=webhook_id,
            idempotency_key=idempotency_key,
        )

    @mcp.tool(annotations=READ, tags={"business", "read"})
    async def get_paypal_account(ctx: Context) -> PaymentAccountView:
        """Which PayPal account bills the tenant: the deployment's, or its own (client id hint, webhook id)."""
        return await runtime.business.get_paypal_account(runtime.caller(ctx))

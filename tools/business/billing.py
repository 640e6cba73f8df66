"""Business tools: the plans catalogue, the tenant's subscription, entitlements, usage, checkout and payments."""

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.domain_core.business.commands import (
    CancelSubscription,
    ConfirmationToken,
    PlanId,
    StartCheckout,
)
from promptsales.domain_core.business.dto import (
    CancellationView,
    CheckoutView,
    EntitlementCheck,
    PaymentPage,
    PlanList,
    SubscriptionView,
    UsageReport,
)
from promptsales.domain_core.business.model.entitlements import CREATIVE_TOOLS
from promptsales.domain_core.business.model.plans import QUOTA_NAMES
from promptsales.domain_core.shared.errors import ValidationFailed
from promptsales.tools.context import READ, Cursor, IdempotencyKey, Limit, ToolRuntime

# Checkout and cancellation act on PayPal (an outside system), so they are open-world.
CHECKOUT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
CANCEL = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)
# Spending and canceling need billing:manage; reading the plan needs only business:read.
MANAGE = {"business", "write", "scope:billing:manage"}
READS = {"business", "read"}


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the business tools and the plans resource to ``mcp``."""

    @mcp.tool(annotations=READ, tags=READS)
    async def list_plans(ctx: Context) -> PlanList:
        """Every plan with price, trial, included features and quotas, cheapest first."""
        runtime.caller(ctx)
        return runtime.business.list_plans()

    @mcp.tool(annotations=READ, tags=READS)
    async def get_subscription(ctx: Context) -> SubscriptionView:
        """The tenant's plan, subscription status, period and access."""
        return await runtime.business.get_subscription(runtime.caller(ctx))

    @mcp.tool(annotations=READ, tags=READS)
    async def check_entitlement(
        ctx: Context,
        feature: Annotated[
            str,
            Field(
                min_length=1,
                max_length=120,
                description="A tool name, a quota (e.g. contacts), context:<name>, channel:<name> (activating "
                "campaigns and sending on it; copy and creatives for any channel are content features), "
                "analytics:<model>, connectors:live.",
            ),
        ],
    ) -> EntitlementCheck:
        """Whether the tenant may use a feature now, quota left, and the plan that would allow it."""
        caller = runtime.caller(ctx)
        name = feature.strip()
        tool = None
        if ":" not in name and name not in QUOTA_NAMES:
            tool = runtime.tool_info(name)
            if tool is None:
                raise ValidationFailed(
                    f"feature '{name}' is neither a quota nor a tool this server offers.",
                    field="feature",
                    hint="Use a gateway tool name from tools/list, a quota name, or kind:name.",
                )
        creative = [info for info in map(runtime.tool_info, CREATIVE_TOOLS) if info is not None]
        return await runtime.business.check_entitlement(caller, name, tool=tool, creative_tools=creative)

    @mcp.tool(annotations=READ, tags=READS)
    async def get_usage(ctx: Context) -> UsageReport:
        """Quota usage this billing period, with limits and reset times."""
        return await runtime.business.get_usage(runtime.caller(ctx))

    @mcp.tool(annotations=CHECKOUT, tags=MANAGE)
    async def start_checkout(ctx: Context, plan: PlanId, idempotency_key: IdempotencyKey = None) -> CheckoutView:
        """Subscribe, upgrade or downgrade through PayPal; returns approve_url when the buyer must approve."""
        return await runtime.business.start_checkout(
            runtime.caller(ctx), StartCheckout(plan=plan), idempotency_key=idempotency_key
        )

    @mcp.tool(annotations=CANCEL, tags=MANAGE)
    async def cancel_subscription(
        ctx: Context,
        confirmation_token: ConfirmationToken = None,
        idempotency_key: IdempotencyKey = None,
    ) -> CancellationView:
        """Cancel the subscription: first call previews and returns a confirmation_token; call again with it."""
        return await runtime.business.cancel_subscription(
            runtime.caller(ctx),
            CancelSubscription(confirmation_token=confirmation_token),
            idempotency_key=idempotency_key,
        )

    @mcp.tool(annotations=READ, tags=READS)
    async def list_payments(ctx: Context, cursor: Cursor = None, limit: Limit = 20) -> PaymentPage:
        """PayPal payments, newest first."""
        return await runtime.business.list_payments(runtime.caller(ctx), cursor=cursor, limit=limit)

    @mcp.resource("business://plans", mime_type="application/json", description="The plans catalogue.")
    async def plans_resource(ctx: Context) -> str:
        runtime.caller(ctx)
        return runtime.business.list_plans().model_dump_json()

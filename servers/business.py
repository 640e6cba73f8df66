"""The business MCP server: plans, subscription, entitlements, usage and PayPal checkout."""

from fastmcp import FastMCP

from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas
from promptsales.tools.business import accounts, billing

INSTRUCTIONS = (
    "PromptSales business: which plan the tenant is on, what it includes, quotas left, and PayPal checkout, "
    "plan changes and cancellation. Check an entitlement before a step that a plan may not include."
)


def build_business_server(runtime: Runtime, *, standalone: bool = True) -> FastMCP:
    """The business server; standalone servers own the runtime lifespan and the call middleware."""
    server = FastMCP(
        "promptsales-business",
        instructions=INSTRUCTIONS,
        lifespan=runtime_lifespan(runtime) if standalone else None,
        middleware=[call_middleware(runtime)] if standalone else [],
        mask_error_details=True,
    )
    billing.register(server, runtime)
    accounts.register(server, runtime)
    if standalone:  # mounted servers are compacted by the gateway, once, after mounting
        compact_tool_schemas(server)
    return server

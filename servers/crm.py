"""The CRM MCP server: every CRM tool, resource and prompt."""

from fastmcp import FastMCP

from promptsales.prompts.crm import register as register_prompts
from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas
from promptsales.tools.crm import contacts, engagement, leads

INSTRUCTIONS = (
    "PromptSales CRM: capture and classify leads, manage contacts and organizations, segment audiences, "
    "read the customer 360 view, and run chat/voice qualification flows. Mutating tools accept an "
    "idempotency_key; lists return next_cursor."
)


def build_crm_server(runtime: Runtime, *, standalone: bool = True) -> FastMCP:
    """The CRM server; standalone servers own the runtime lifespan and the call middleware."""
    server = FastMCP(
        "promptsales-crm",
        instructions=INSTRUCTIONS,
        lifespan=runtime_lifespan(runtime) if standalone else None,
        middleware=[call_middleware(runtime)] if standalone else [],
        mask_error_details=True,
    )
    contacts.register(server, runtime)
    leads.register(server, runtime)
    engagement.register(server, runtime)
    register_prompts(server, tool_prefix="" if standalone else "crm_")
    if standalone:  # mounted servers are compacted by the gateway, once, after mounting
        compact_tool_schemas(server)
    return server

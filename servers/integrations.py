"""The integrations MCP server: connectors, connections and syncs with the platforms a team already uses."""

from fastmcp import FastMCP

from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas
from promptsales.tools.integrations import ad_accounts, connections, designs, messaging

INSTRUCTIONS = (
    "PromptSales integrations: connect HubSpot, Salesforce, Zendesk, WhatsApp, ad and email platforms (sandbox "
    "by default), test a connection, and sync platform records into the CRM. list_connectors shows what is connected."
)


def build_integrations_server(runtime: Runtime, *, standalone: bool = True) -> FastMCP:
    """The integrations server; standalone servers own the runtime lifespan and the call middleware."""
    server = FastMCP(
        "promptsales-integrations",
        instructions=INSTRUCTIONS,
        lifespan=runtime_lifespan(runtime) if standalone else None,
        middleware=[call_middleware(runtime)] if standalone else [],
        mask_error_details=True,
    )
    connections.register(server, runtime)
    designs.register(server, runtime)
    messaging.register(server, runtime)
    ad_accounts.register(server, runtime)
    if standalone:  # mounted servers are compacted by the gateway, once, after mounting
        compact_tool_schemas(server)
    return server

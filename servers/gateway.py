"""The gateway: mounts every enabled context server under its namespace (crm_*, ...)."""

from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider

from promptsales.servers.business import build_business_server
from promptsales.servers.crm import build_crm_server
from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime

CONTEXT_BUILDERS = {"crm": build_crm_server, "business": build_business_server}


def build_gateway(
    runtime: Runtime, contexts: tuple[str, ...] | None = None, *, auth: AuthProvider | None = None
) -> FastMCP:
    """One MCP server exposing the chosen contexts (default: the settings' toolsets); ``auth`` guards HTTP."""
    gateway = FastMCP(
        "promptsales",
        instructions="PromptSales: AI sales & marketing tools, namespaced by context (crm_..., business_...).",
        lifespan=runtime_lifespan(runtime),
        middleware=[call_middleware(runtime)],
        mask_error_details=True,
        auth=auth,
    )
    for name in contexts or runtime.settings.toolsets:
        gateway.mount(CONTEXT_BUILDERS[name](runtime, standalone=False), namespace=name)
    return gateway

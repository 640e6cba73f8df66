"""The gateway: serves every enabled context's tools under its namespace (crm_*, ...) and mounts the rest."""

from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider
from fastmcp.tools.base import Tool
from fastmcp.utilities.versions import VersionSpec

from promptsales.prompts.workflows import register as register_workflows
from promptsales.servers.business import build_business_server
from promptsales.servers.campaigns import build_campaigns_server
from promptsales.servers.catalogue import adopt_tools
from promptsales.servers.content import build_content_server
from promptsales.servers.crm import build_crm_server
from promptsales.servers.integrations import build_integrations_server
from promptsales.servers.lifecycle import runtime_lifespan
from promptsales.servers.middleware import call_middleware
from promptsales.servers.runtime import Runtime
from promptsales.servers.schema_compaction import compact_tool_schemas

WORKFLOW_CONTEXTS = {"crm", "campaigns", "business", "content"}
CONTEXT_BUILDERS = {
    "crm": build_crm_server,
    "campaigns": build_campaigns_server,
    "business": build_business_server,
    "content": build_content_server,
    "integrations": build_integrations_server,
}


class Gateway(FastMCP):
    """A FastMCP server that finds its own tools first: the mounted servers hold only prompts and resources."""

    async def _get_tool(self, name: str, version: VersionSpec | None = None) -> Tool | None:
        tool = await self.local_provider.get_tool(name, version)
        if tool is not None and tool.auth is None:
            return tool
        # Not ours, or guarded by a component check: the full lookup over every provider decides.
        return await super()._get_tool(name, version)


def build_gateway(
    runtime: Runtime, contexts: tuple[str, ...] | None = None, *, auth: AuthProvider | None = None
) -> FastMCP:
    """One MCP server exposing the chosen contexts (default: the settings' toolsets); ``auth`` guards HTTP."""
    gateway = Gateway(
        "promptsales",
        instructions="PromptSales: AI sales & marketing tools, namespaced by context "
        "(crm_, campaigns_, content_, business_, integrations_).",
        lifespan=runtime_lifespan(runtime),
        middleware=[call_middleware(runtime)],
        mask_error_details=True,
        auth=auth,
    )
    mounted = contexts or runtime.settings.toolsets
    for name in mounted:
        context = CONTEXT_BUILDERS[name](runtime, standalone=False)
        adopt_tools(gateway, context, name)
        gateway.mount(context, namespace=name)
    if set(mounted) >= WORKFLOW_CONTEXTS:  # the playbooks name tools of all of them
        register_workflows(gateway)
    compact_tool_schemas(gateway)
    return gateway

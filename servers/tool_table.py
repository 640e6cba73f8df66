"""What the call middleware needs of every served tool, read once at start: scopes and plan facts."""

from fastmcp import FastMCP

from promptsales.domain_core.business.facade import ToolInfo
from promptsales.domain_core.infrastructure.rate_limit import KNOWN_CONTEXTS
from promptsales.servers.scopes import required_scopes


def tool_context(tags: set[str]) -> str | None:
    """The context a tool belongs to, from its tags (``{"crm", "write"}`` → ``crm``)."""
    return next((tag for tag in sorted(tags) if tag in KNOWN_CONTEXTS), None)


async def describe_tools(server: FastMCP) -> tuple[dict[str, tuple[str, ...]], dict[str, ToolInfo]]:
    """Scopes and entitlement facts of every tool the server lists, by the name clients call it with.

    Plans name tools as the gateway does (``crm_import_leads``), so a standalone server's unprefixed
    ``import_leads`` is recorded under that name too.
    """
    scopes: dict[str, tuple[str, ...]] = {}
    infos: dict[str, ToolInfo] = {}
    for tool in await server.list_tools(run_middleware=False):
        tags = set(tool.tags or ())
        context = tool_context(tags)
        gateway_name = tool.name if context is None or tool.name.startswith(f"{context}_") else f"{context}_{tool.name}"
        read_only = bool(tool.annotations and tool.annotations.read_only_hint)
        scopes[tool.name] = required_scopes(tags)
        infos[tool.name] = ToolInfo(name=gateway_name, context=context, read_only=read_only)
    return scopes, infos

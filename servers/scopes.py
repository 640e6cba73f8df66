"""OAuth scopes per tool, declared by each tool's tags (context + read/write/admin) and read once at start.

A tool tagged ``{"crm", "read"}`` needs ``crm:read``; ``{"crm", "write"}`` needs ``crm:write``; the tag
``admin`` adds the ``admin`` scope. Enforcement happens in the one tool-call middleware, for callers that
present a token (stdio and unauthenticated loopback mode have no token and no scopes to check).
"""

from collections.abc import Iterable

import structlog
from fastmcp import FastMCP

from promptsales.domain_core.infrastructure.rate_limit import KNOWN_CONTEXTS

log = structlog.get_logger(__name__)


def required_scopes(tags: Iterable[str]) -> tuple[str, ...]:
    """The scopes a tool with these tags needs."""
    tag_set = set(tags)
    context = next((t for t in sorted(tag_set) if t in KNOWN_CONTEXTS), None)
    if context is None:
        return ("admin",) if "admin" in tag_set else ()
    scopes = [f"{context}:{'write' if 'write' in tag_set else 'read'}"]
    if "admin" in tag_set:
        scopes.append("admin")
    return tuple(scopes)


async def scope_table(server: FastMCP) -> dict[str, tuple[str, ...]]:
    """Required scopes of every tool the server lists, by the name clients call it with."""
    tools = await server.list_tools(run_middleware=False)
    return {tool.name: required_scopes(tool.tags or ()) for tool in tools}


def insufficient_scope_message(tool: str, missing: Iterable[str]) -> str:
    """The insufficient_scope error text (RFC 6750 §3.1 wording), naming what to ask for."""
    needed = ", ".join(f"'{scope}'" for scope in missing)
    return (
        f"insufficient_scope: {tool} needs the scope {needed}, which the access token does not grant. "
        "Ask the identity provider for a token that includes it."
    )

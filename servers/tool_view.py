"""The per-connection view of the catalogue: tools/list shows only the chosen tools, tools/call refuses the rest.

One gateway serves every endpoint; the view of a request is read from the HTTP request (set by
:class:`~promptsales.servers.view_routes.ToolViewRoutes`) or, on stdio, is the server's own (command line).
"""

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from fastmcp.exceptions import NotFoundError
from fastmcp.server.dependencies import get_http_request
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool

from promptsales.servers.runtime import Runtime
from promptsales.servers.tool_table import tool_context
from promptsales.servers.toolsets import View

VIEW_SCOPE_KEY = "promptsales.tool_view"
# Set while the compact call_tool dispatches a real tool: that call is judged by the view's filters, not by
# the compact listing (which shows only the meta-tools).
through_meta_tool: ContextVar[bool] = ContextVar("promptsales_through_meta_tool", default=False)
# Set while the compact meta-tools read the catalogue they search and describe.
reading_catalogue: ContextVar[bool] = ContextVar("promptsales_reading_catalogue", default=False)

CompactListing = Callable[[View], Sequence[Tool]]


def unknown_tool(name: str) -> NotFoundError:
    """The refusal of a tool outside the view: worded as fastmcp words a tool that does not exist."""
    return NotFoundError(f"Unknown tool: {name!r}")


class ToolViewGate(Middleware):
    """Outermost middleware: filters tools/list by the connection's view and refuses calls it hides.

    It runs before the call middleware, so a hidden tool costs no rate-limit token and reveals nothing about
    plans or scopes: it simply does not exist for this connection.
    """

    def __init__(self, runtime: Runtime, *, default: View, compact_listing: CompactListing) -> None:
        self.runtime = runtime
        self.default = default
        self._compact_listing = compact_listing

    def current_view(self) -> View:
        """The view of the request being served (the server's own on stdio or without a routed view)."""
        try:
            request = get_http_request()
        except RuntimeError:
            return self.default
        view = request.scope.get(VIEW_SCOPE_KEY)
        return view if isinstance(view, View) else self.default

    def facts(self, name: str, tool: Tool | None = None) -> tuple[str | None, bool] | None:
        """(context, read_only) of a served tool, from the table read at start or the tool itself; None: unknown."""
        info = self.runtime.tool_infos.get(name)
        if info is not None:
            return info.context, info.read_only
        if tool is None:
            return None
        return tool_context(set(tool.tags or ())), bool(tool.annotations and tool.annotations.read_only_hint)

    def visible(self, view: View, name: str, tool: Tool | None = None) -> bool:
        """Whether ``name`` can be listed and called through ``view``."""
        if not view.narrows:
            return True
        facts = self.facts(name, tool)
        return facts is not None and view.allows(name, *facts)

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        """The meta-tools on a compact connection; otherwise the listing, less what the view hides."""
        view = self.current_view()
        if view.compact and not reading_catalogue.get():
            return list(self._compact_listing(view))
        tools = await call_next(context)
        if not view.narrows:
            return tools
        return [tool for tool in tools if self.visible(view, tool.name, tool)]

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        """Refuse a tool the view hides as if it did not exist (compact: only the meta-tools, from the client)."""
        view = self.current_view()
        name = context.message.name
        if view.compact and not through_meta_tool.get():
            if name not in {tool.name for tool in self._compact_listing(view)}:
                raise unknown_tool(name)
            return await call_next(context)
        if not self.visible(view, name):
            raise unknown_tool(name)
        return await call_next(context)

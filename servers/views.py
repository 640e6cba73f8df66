"""Wires per-connection tool views into a gateway: the view gate (outermost) and the compact meta-tools."""

from fastmcp import FastMCP

from promptsales.servers.compact import CompactTools
from promptsales.servers.runtime import Runtime
from promptsales.servers.tool_view import ToolViewGate
from promptsales.servers.toolsets import View


def find_view_gate(server: FastMCP) -> ToolViewGate | None:
    """The view gate installed on ``server``, if any."""
    return next((mw for mw in server.middleware if isinstance(mw, ToolViewGate)), None)


def install_tool_views(server: FastMCP, runtime: Runtime, *, default: View | None = None) -> ToolViewGate:
    """Add the view gate and the compact meta-tools to ``server`` once; ``default`` is the server's own view
    (command line), which every request's view narrows further."""
    existing = find_view_gate(server)
    if existing is not None:
        return existing
    compact: list[CompactTools] = []  # the gate lists the meta-tools, which need the gate: tie the knot after
    gate = ToolViewGate(runtime, default=default or View(), compact_listing=lambda view: compact[0].listing(view))
    compact.append(CompactTools(gate))
    # The gate goes first (outermost): a hidden tool is refused before scopes, plan or rate limits are consulted.
    server.middleware.insert(0, gate)
    # The meta-tools go last, inside the call middleware, so their calls are counted and worded like any other.
    server.add_middleware(compact[0])
    return gate

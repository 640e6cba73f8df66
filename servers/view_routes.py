"""HTTP endpoints of tool views: ``/mcp/<toolset>`` and ``/mcp/compact`` beside ``/mcp``, and a request's own
selection (``?toolsets=``, ``?tools=``, ``?read_only=``, ``?mode=compact`` or ``X-MCP-*`` headers).

Every such path is served by the one ``/mcp`` endpoint (one gateway, one runtime): this ASGI middleware runs before
routing, rewrites the path to ``/mcp`` and leaves the request's view in the ASGI scope, where the view gate reads it.
"""

import json
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from promptsales.servers.tool_view import VIEW_SCOPE_KEY, ToolViewGate
from promptsales.servers.toolsets import path_selection, request_selection


class ToolViewRoutes:
    """Resolves the view of each MCP request (400 for a malformed selection); other paths pass untouched."""

    def __init__(self, app: ASGIApp, *, gate: ToolViewGate, mcp_path: str = "/mcp") -> None:
        self.app = app
        self.gate = gate
        self.mcp_path = mcp_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route ``/mcp[/<view>]`` to ``/mcp`` with the request's view in the scope."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != self.mcp_path and not path.startswith(self.mcp_path + "/"):
            await self.app(scope, receive, send)
            return
        suffix = path[len(self.mcp_path) :].strip("/")
        by_path = path_selection(suffix) if suffix else None
        if suffix and by_path is None:  # not an endpoint of ours: the router answers 404
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        try:
            by_request = request_selection(query, Headers(scope=scope), known_tools=self.gate.runtime.tool_infos.keys())
        except ValueError as exc:
            await _bad_request(send, str(exc))
            return
        view = self.gate.default.narrowed(by_path, by_request)
        routed = {**scope, "path": self.mcp_path, "raw_path": self.mcp_path.encode(), VIEW_SCOPE_KEY: view}
        await self.app(routed, receive, send)


async def _bad_request(send: Send, message: str) -> None:
    """A 400 naming what is wrong with the selection."""
    body = json.dumps({"error": "invalid_request", "error_description": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Prototype for issue 13 (part C): answer 2026-07-28 ``tools/call`` POSTs without the SDK's request machinery.

The server is ``bare_fastmcp_app``'s (one no-I/O async tool, the suite's transport settings); only the
path a modern ``tools/call`` takes changes. ``LEAN_CALL_MODE`` picks it:

``off``    everything goes to the SDK app: the bare FastMCP reference itself
``inner``  a Starlette middleware *inside* fastmcp's app, so its request context, Host/Origin guard (and
           auth, where configured) run first; then the SDK's own modern-request checks (Accept, JSON-RPC
           envelope, duplicated routing headers, the ``_meta``/header ladder, ``Mcp-Param-*``), fastmcp's
           ``tools/call`` handler under a bound request context, and the SDK runner's result serialisation.
           Against the SDK path it still skips the SSE deferral task group, the low-level server middleware
           (``RequestStateBoundary``, which seals ``input_required`` state, and ``FastMCPServerMiddleware``)
           and the per-request ``Connection`` exit stack
``chain``  an ASGI wrapper *outside* fastmcp's app: body parsed with ``json.loads``, then
           ``FastMCP.call_tool`` (fastmcp ``Context``, middleware chain, lookup, validation, masking) with no
           request context, no Starlette middleware and no header checks, and the SDK's result sieve
``run``    like ``chain`` but the tool object is looked up once and only ``tool._run(arguments)`` runs

Anything a lean mode does not answer itself (another method, a rejected envelope, a request that asks
for progress) is replayed to the SDK app. ``LEAN_CALL_MIDDLEWARE=1`` adds one pass-through fastmcp
``Middleware`` so the cost of a middleware chain shows. ``bench_lean.py`` measures the modes; the results
are in README.md ("Stretch: a lean tools/call path")::

    LEAN_CALL_MODE=inner uvicorn lean_call_app:app --app-dir evals/perf --port 8301
"""

from __future__ import annotations

import json
import os
from typing import Any

import bare_fastmcp_app
from fastmcp import FastMCP
from fastmcp.exceptions import FastMCPError, NotFoundError
from fastmcp.server.dependencies import bind_request_context
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import Tool
from fastmcp.tools.base import ToolResult
from mcp.server._streamable_http_modern import _SingleExchangeDispatchContext
from mcp.server.connection import Connection
from mcp.server.runner import ServerRunner, _extract_meta
from mcp.server.streamable_http import check_accept_headers
from mcp.shared.inbound import (
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
    validate_mcp_param_headers,
)
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import CallToolRequestParams, CallToolResult, JSONRPCRequest, TextContent
from mcp_types import methods as mcp_methods
from pydantic import ValidationError
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MODE_ENV = "LEAN_CALL_MODE"
MIDDLEWARE_ENV = "LEAN_CALL_MIDDLEWARE"
MODES = ("off", "inner", "chain", "run")
MODERN = "2026-07-28"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class PassThrough(Middleware):
    """A middleware that only forwards: what one entry in the chain costs."""

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        return await call_next(context)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _is_modern_call(scope: Scope, path: str) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and scope["path"] == path
        and _header(scope, b"mcp-protocol-version") == MODERN.encode()
        and _header(scope, b"mcp-method") == b"tools/call"
    )


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the SDK app, then defers to the real one."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _send_json(send: Send, request_id: Any, result: dict[str, Any]) -> None:
    payload = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}, separators=(",", ":"))
    await send({"type": "http.response.start", "status": 200, "headers": _JSON_HEADERS})
    await send({"type": "http.response.body", "body": payload.encode()})


def _wire_result(outcome: ToolResult) -> dict[str, Any]:
    """The result the SDK would write: the shapes fastmcp's tools/call handler normalises, dumped."""
    shaped = outcome.to_mcp_result()
    if isinstance(shaped, tuple):
        shaped = CallToolResult(content=shaped[0], structured_content=shaped[1])
    elif isinstance(shaped, list):
        shaped = CallToolResult(content=shaped)
    return shaped.model_dump(mode="json", by_alias=True, exclude_none=True)


def _error_result(text: str) -> dict[str, Any]:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


class OuterToolCalls:
    """``chain`` and ``run`` modes: an ASGI wrapper in front of the whole SDK app."""

    def __init__(self, app: ASGIApp, server: FastMCP[Any], *, mode: str, path: str = "/mcp") -> None:
        self.app = app
        self.server = server
        self.mode = mode
        self.path = path
        self.tools: dict[str, Tool] = {}
        self.server_info: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mode == "off" or not _is_modern_call(scope, self.path):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = json.loads(body)
        params = request.get("params") if isinstance(request, dict) else None
        name = params.get("name") if isinstance(params, dict) else None
        if (
            not isinstance(params, dict)
            or not isinstance(name, str)
            or _header(scope, b"mcp-name") != name.encode()
            or progress_token_from_params(params) is not None
        ):
            await self.app(scope, _replay(body, receive), send)
            return
        result = await self._call(name, params.get("arguments") or {})
        wire = mcp_methods.serialize_server_result("tools/call", MODERN, result)
        wire["_meta"] = {**wire.get("_meta", {}), SERVER_INFO_KEY: self._stamp()}
        await _send_json(send, request["id"], wire)

    def _stamp(self) -> dict[str, Any]:
        if not self.server_info:
            self.server_info = self.server._mcp_server.server_info_stamp
        return dict(self.server_info)

    async def _call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            if self.mode == "run":
                tool = self.tools.get(name)
                if tool is None:
                    found = await self.server.get_tool(name)
                    if found is None:
                        raise NotFoundError(name)
                    tool = self.tools[name] = found
                outcome = await tool._run(arguments)
            else:
                outcome = await self.server.call_tool(name, arguments)
        except NotFoundError:
            return _error_result(f"Unknown tool: {name!r}")
        except FastMCPError as exc:
            return _error_result(str(exc))
        return _wire_result(outcome)


class InnerToolCalls:
    """``inner`` mode: a Starlette middleware inside fastmcp's app, keeping the SDK's checks."""

    def __init__(self, app: ASGIApp, server: FastMCP[Any], path: str = "/mcp") -> None:
        self.app = app
        self.server = server
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_modern_call(scope, self.path):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = Request(scope, _replay(body, receive))
        if not check_accept_headers(request)[0] or find_duplicated_routing_header(request.headers.items()):
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            decoded = json.loads(body)
            req = JSONRPCRequest.model_validate(decoded)
            params = CallToolRequestParams.model_validate(req.params or {}, by_name=False)
        except (ValueError, RecursionError, ValidationError):
            await self.app(scope, _replay(body, receive), send)
            return
        verdict = classify_inbound_request(decoded, headers=dict(request.headers))
        if (
            isinstance(verdict, InboundLadderRejection)
            or self._header_mismatch(params, request)
            or progress_token_from_params(req.params) is not None
        ):
            await self.app(scope, _replay(body, receive), send)
            return
        lowlevel = self.server._mcp_server
        connection = Connection.from_envelope(
            verdict.protocol_version, verdict.client_info, verdict.client_capabilities
        )
        runner = ServerRunner(lowlevel, connection, None)
        dctx = _SingleExchangeDispatchContext(
            transport=TransportContext(kind="streamable-http", can_send_request=False, headers=request.headers),
            request_id=req.id,
            message_metadata=ServerMessageMetadata(request_context=request),
        )
        ctx = runner._make_context(dctx, "tools/call", req.params, _extract_meta(req.params), MODERN)
        with bind_request_context(ctx):
            result = await self.server._on_call_tool(ctx, params)
        await _send_json(send, req.id, runner._serialize("tools/call", MODERN, result))

    def _header_mismatch(self, params: CallToolRequestParams, request: Request) -> bool:
        lookup = self.server._mcp_server.get_tool_input_schema
        schema = lookup(params.name) if lookup is not None else None
        if schema is None:
            return False
        return validate_mcp_param_headers(schema, params.arguments or {}, request.headers) is not None


def create_app(*, json_response: bool, mode: str, middleware: bool) -> ASGIApp:
    """The bare FastMCP app with the chosen path for modern ``tools/call`` requests."""
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV} must be one of {', '.join(MODES)}, not {mode!r}")
    server = bare_fastmcp_app.build_server()
    if middleware:
        server.add_middleware(PassThrough())
    inner = [StarletteMiddleware(InnerToolCalls, server=server)] if mode == "inner" else None
    sdk_app = server.http_app(
        path=bare_fastmcp_app.MCP_PATH,
        stateless_http=True,
        json_response=json_response,
        host_origin_protection="auto",
        middleware=inner,
    )
    return OuterToolCalls(sdk_app, server, mode="off" if mode == "inner" else mode)


app = create_app(
    json_response=bare_fastmcp_app.json_response_from_env(),
    mode=os.environ.get(MODE_ENV, "inner"),
    middleware=os.environ.get(MIDDLEWARE_ENV, "") == "1",
)

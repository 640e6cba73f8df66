"""Plain Starlette baseline for the CRM benchmark: JSON-RPC-shaped ``tools/call`` without MCP.

``POST /rpc`` parses a JSON-RPC ``tools/call`` body and answers with the same result shape an MCP
tool returns (``content`` text + ``structuredContent`` + ``isError``), serialised the same way.
There is no MCP session handling, no validation schema, no middleware and no database, so the
ratio "CRM calls per CPU-second / baseline calls per CPU-second" shows what MCP plus the domain
(validation, unit of work, Postgres round trips, audit, outbox) cost on top of bare HTTP + JSON.

Run (the benchmark does this for you)::

    uvicorn baseline_app:app --app-dir evals/perf --host 127.0.0.1 --port 8200
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601


def rpc_error(request_id: Any, code: int, message: str) -> JSONResponse:
    """A JSON-RPC error envelope (HTTP 200, like an MCP server's protocol errors)."""
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def tool_result(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The MCP ``CallToolResult`` shape: text content mirrors the structured content."""
    structured = {"tool": name, "arguments": arguments, "ok": True}
    return {
        "content": [{"type": "text", "text": json.dumps(structured, separators=(",", ":"))}],
        "structuredContent": structured,
        "isError": False,
    }


async def rpc(request: Request) -> Response:
    """Handle one JSON-RPC ``tools/call``."""
    try:
        message = await request.json()
    except ValueError:
        return rpc_error(None, INVALID_REQUEST, "body is not JSON")
    if not isinstance(message, dict):
        return rpc_error(None, INVALID_REQUEST, "body is not a JSON-RPC object")
    request_id = message.get("id")
    if message.get("method") != "tools/call":
        return rpc_error(request_id, METHOD_NOT_FOUND, f"unknown method {message.get('method')!r}")
    params = message.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("arguments", {}), dict):
        return rpc_error(request_id, INVALID_REQUEST, "params.arguments must be an object")
    result = tool_result(str(params.get("name", "")), params.get("arguments", {}))
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})


async def readyz(_request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/rpc", rpc, methods=["POST"]), Route("/readyz", readyz, methods=["GET"])])

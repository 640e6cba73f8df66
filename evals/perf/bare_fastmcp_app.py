"""Bare FastMCP reference for the CRM benchmark: the framework's ceiling on this machine.

One async tool, ``echo_lead(lead_id) -> dict``, that answers a small fixed-shape dict with no I/O,
served over streamable HTTP the way the suite serves its gateway: ``/mcp``, stateless, SSE or
JSON responses, Host/Origin guard ``"auto"``, the same precomputed input-schema table for modern
``tools/call`` requests (instead of a ``tools/list`` per call) and the same GC settings. What is
left is FastMCP + the MCP SDK + Starlette + uvicorn, so "CRM calls per CPU-second / this server's
calls per CPU-second" separates the framework's cost from PromptSales' own code (middleware,
validation, unit of work, Postgres, audit, outbox).

Run (the benchmark does this for you; the response mode comes from the environment)::

    BARE_FASTMCP_JSON_RESPONSE=1 uvicorn bare_fastmcp_app:app --app-dir evals/perf --port 8300

or stand-alone: ``python evals/perf/bare_fastmcp_app.py --port 8300 [--json-response | --sse]``.
"""

from __future__ import annotations

import argparse
import gc
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.lifespan import lifespan
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

JSON_RESPONSE_ENV = "BARE_FASTMCP_JSON_RESPONSE"
MCP_PATH = "/mcp"
TOOL_NAME = "echo_lead"


def json_response_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """``BARE_FASTMCP_JSON_RESPONSE`` = 1/true/yes/on selects JSON responses; anything else SSE."""
    value = (os.environ if environ is None else environ).get(JSON_RESPONSE_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


@lifespan
async def _schema_lookup(server: FastMCP[Any]) -> AsyncIterator[dict[str, Any]]:
    """Serve input schemas from a table built once (as the suite does), then tune GC as ``serve`` does."""
    tools = await server.list_tools(run_middleware=False)
    server._mcp_server.get_tool_input_schema = {tool.name: tool.parameters for tool in tools}.get
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    yield {}


def build_server() -> FastMCP[Any]:
    server: FastMCP[Any] = FastMCP("bare-fastmcp-bench", lifespan=_schema_lookup)

    @server.tool(name=TOOL_NAME)
    async def echo_lead(lead_id: str) -> dict[str, Any]:
        """Return a fixed-shape lead summary for ``lead_id`` (no I/O)."""
        return {"id": lead_id, "status": "new", "score": 0, "owner": None}

    @server.custom_route("/readyz", methods=["GET"])
    async def readyz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return server


def create_app(*, json_response: bool) -> Any:
    """The ASGI app, configured like the suite's ``http_app`` (stateless, guard ``"auto"``)."""
    return build_server().http_app(
        path=MCP_PATH,
        stateless_http=True,
        json_response=json_response,
        host_origin_protection="auto",
    )


app = create_app(json_response=json_response_from_env())


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json-response", dest="json_response", action="store_true", default=None)
    mode.add_argument("--sse", dest="json_response", action="store_false")
    ns = parser.parse_args(argv)
    json_response = json_response_from_env() if ns.json_response is None else ns.json_response
    asgi = app if json_response == json_response_from_env() else create_app(json_response=json_response)
    uvicorn.run(asgi, host=ns.host, port=ns.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()

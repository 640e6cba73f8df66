"""The HTTP face of the suite: streamable MCP at /mcp (and its views /mcp/<toolset>, /mcp/compact), /healthz,
/readyz, /metrics and the billing routes."""

from typing import Any

from fastmcp import FastMCP
from fastmcp.server.auth import RemoteAuthProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from promptsales.servers.billing_routes import add_billing_routes
from promptsales.servers.body_limit import BodyLimit
from promptsales.servers.inflight import InflightRequests
from promptsales.servers.integration_routes import add_integration_routes
from promptsales.servers.runtime import Runtime
from promptsales.servers.scope_guard import ScopeGuard
from promptsales.servers.view_routes import ToolViewRoutes
from promptsales.servers.views import install_tool_views

MCP_PATH = "/mcp"


def add_operational_routes(server: FastMCP, runtime: Runtime) -> None:
    """Health, readiness and metrics routes (unauthenticated; they reveal no tenant data)."""

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @server.custom_route("/readyz", methods=["GET"])
    async def readyz(request: Request) -> Response:
        ok = await runtime.ready()
        return JSONResponse({"status": "ready" if ok else "unavailable"}, status_code=200 if ok else 503)

    @server.custom_route("/metrics", methods=["GET"])
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)


def http_app(server: FastMCP, runtime: Runtime, *, json_response: bool = False) -> Any:
    """The ASGI app: stateless (any replica serves any request), SSE by default, Host/Origin checked."""
    gate = install_tool_views(server, runtime)
    add_operational_routes(server, runtime)
    add_billing_routes(server, runtime)  # before /webhooks/{platform}: PayPal's route is billing's
    add_integration_routes(server, runtime)
    middleware = [Middleware(ToolViewRoutes, gate=gate, mcp_path=MCP_PATH), Middleware(BodyLimit)]
    if server.auth is not None:
        metadata_url = None
        if isinstance(server.auth, RemoteAuthProvider):
            metadata_url = f"{str(server.auth.base_url).rstrip('/')}/.well-known/oauth-protected-resource/mcp"
        middleware.append(Middleware(ScopeGuard, tool_scopes=runtime.tool_scopes, resource_metadata_url=metadata_url))
    app = server.http_app(
        path=MCP_PATH,
        stateless_http=True,
        json_response=json_response,
        host_origin_protection="auto",
        middleware=middleware,
    )
    # Outermost of the app's own middleware, so requests refused by the host guard or auth are counted too.
    app.add_middleware(InflightRequests, metrics=runtime.http_metrics)
    return app

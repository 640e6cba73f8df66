"""HTTP routes of integrations: the OAuth callback and the platforms' webhooks."""

import html

from fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from promptsales.domain_core.integrations.dto import InboundRequest
from promptsales.servers.runtime import Runtime

MAX_WEBHOOK_BYTES = 1024 * 1024


def add_integration_routes(server: FastMCP, runtime: Runtime) -> None:
    """``GET /oauth/callback/{platform}`` and ``/webhooks/{platform}`` (GET for handshakes; PayPal's is billing's)."""

    @server.custom_route("/oauth/callback/{platform}", methods=["GET"])
    async def oauth_callback(request: Request) -> Response:
        params = request.query_params
        outcome = await runtime.integrations.complete_authorization(
            request.path_params["platform"][:40],
            state=params.get("state"),
            code=params.get("code") or params.get("auth_code"),  # TikTok names it auth_code (§4)
            error=params.get("error"),
        )
        title = "Connected" if outcome.ok else "Not connected"
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>{title}</h1>"
            f"<p>{html.escape(outcome.message)}</p><p>You can close this window.</p></body></html>",
            status_code=200 if outcome.ok else 400,
        )

    @server.custom_route("/webhooks/{platform}", methods=["GET", "POST"])
    async def platform_webhook(request: Request) -> Response:
        body = await request.body()
        source = request.path_params["platform"][:40]
        if len(body) > MAX_WEBHOOK_BYTES:
            # The platform is not checked yet, so the label is not taken from the caller's path.
            runtime.webhook_metrics.record("unknown", 413)
            return JSONResponse({"outcome": "rejected: body too large"}, status_code=413)
        public = runtime.settings.public_url.rstrip("/")
        url = public + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        inbound = InboundRequest(
            method=request.method,
            url=url,
            headers={name.lower(): value for name, value in request.headers.items()},
            query=dict(request.query_params),
            body=body,
        )
        try:
            outcome = await runtime.integrations.handle_webhook(source, inbound)
        except Exception:
            runtime.webhook_metrics.record("unknown", 500)
            raise
        # 404 means no such platform: a caller-chosen name would make the label set unbounded.
        runtime.webhook_metrics.record("unknown" if outcome.status_code == 404 else source, outcome.status_code)
        if outcome.body is not None:
            return Response(outcome.body, status_code=outcome.status_code, media_type=outcome.media_type)
        return JSONResponse({"outcome": outcome.outcome}, status_code=outcome.status_code)

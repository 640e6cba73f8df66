"""HTTP routes of billing: PayPal's webhook, the buyer's return pages, and the sandbox's approval page."""

import html

from fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from promptsales.domain_core.business.bootstrap import SANDBOX_APPROVAL_PATH
from promptsales.domain_core.business.paypal.simulator import SimulatorError
from promptsales.servers.runtime import Runtime

# PayPal events are a few kilobytes; anything far larger is not one.
MAX_WEBHOOK_BYTES = 256 * 1024


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>",
        status_code=status,
    )


def add_billing_routes(server: FastMCP, runtime: Runtime) -> None:
    """``POST /webhooks/paypal``, ``GET /billing/return|cancel`` and, in sandbox mode, the approval page."""

    @server.custom_route("/webhooks/paypal", methods=["POST"])
    async def paypal_webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            runtime.webhook_metrics.record("paypal", 413)
            return JSONResponse({"outcome": "rejected: body too large"}, status_code=413)
        try:
            outcome = await runtime.business.handle_paypal_webhook(dict(request.headers), body)
        except Exception:
            runtime.webhook_metrics.record("paypal", 500)
            raise
        runtime.webhook_metrics.record("paypal", outcome.status_code)
        return JSONResponse({"outcome": outcome.outcome}, status_code=outcome.status_code)

    @server.custom_route("/billing/return", methods=["GET"])
    async def billing_return(request: Request) -> Response:
        return _page(
            "Payment approved",
            "<p>PayPal approved the payment. The plan applies as soon as PayPal confirms it (usually seconds); "
            "<code>business_get_subscription</code> shows it. You can close this window.</p>",
        )

    @server.custom_route("/billing/cancel", methods=["GET"])
    async def billing_cancel(request: Request) -> Response:
        return _page("Checkout canceled", "<p>Nothing was charged. You can close this window.</p>")

    @server.custom_route(SANDBOX_APPROVAL_PATH + "/{rest:path}", methods=["GET", "POST"])
    async def sandbox_approval(request: Request) -> Response:
        simulator = runtime.paypal_simulator
        if simulator is None:
            return _page("Not found", "<p>PayPal sandbox mode is off.</p>", status=404)
        try:
            token = simulator.approval_token_for(str(request.url))
        except SimulatorError:
            return _page("Unknown checkout", "<p>This approval link is not (or no longer) valid.</p>", status=404)
        if request.method == "GET":
            escaped = html.escape(str(request.url), quote=True)
            return _page(
                "PayPal sandbox",
                "<p>This offline PayPal simulator stands in for PayPal's approval page. No money moves.</p>"
                f"<form method='post' action='{escaped}'><button name='decision' value='approve'>Approve</button> "
                "<button name='decision' value='cancel'>Cancel</button></form>",
            )
        decision = (await request.form()).get("decision")
        try:
            target = await simulator.approve(token) if decision == "approve" else simulator.cancel_approval(token)
        except SimulatorError as exc:
            return _page("Cannot approve", f"<p>{html.escape(str(exc))}</p>", status=409)
        return RedirectResponse(target or "/billing/return", status_code=303)

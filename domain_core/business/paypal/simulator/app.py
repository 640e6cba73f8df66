"""The simulator's ASGI app: the route table, and the request pipeline (record, fault, auth, idempotency)."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.business.paypal.simulator.billing import BuyerAndBilling
from promptsales.domain_core.business.paypal.simulator.catalog import CatalogRoutes
from promptsales.domain_core.business.paypal.simulator.errors import ApiError, OAuthError
from promptsales.domain_core.business.paypal.simulator.faults import FaultInjection
from promptsales.domain_core.business.paypal.simulator.models import Call
from promptsales.domain_core.business.paypal.simulator.oauth import OAuthRoutes
from promptsales.domain_core.business.paypal.simulator.orders import OrderRoutes
from promptsales.domain_core.business.paypal.simulator.records import RecordedRequest
from promptsales.domain_core.business.paypal.simulator.responses import bytes_response, error_response, fault_response
from promptsales.domain_core.business.paypal.simulator.state import Deliver
from promptsales.domain_core.business.paypal.simulator.subscriptions import SubscriptionRoutes
from promptsales.domain_core.business.paypal.simulator.webhooks import WebhookVerification
from promptsales.domain_core.shared.clock import utc_now

Handler = Callable[[Call], tuple[int, Any]]


class PayPalSimulator(
    OAuthRoutes,
    CatalogRoutes,
    SubscriptionRoutes,
    OrderRoutes,
    WebhookVerification,
    BuyerAndBilling,
    FaultInjection,
):
    """PayPal's REST API for one merchant app, in memory: ``.app`` serves it; the other methods act as buyer/PayPal.

    API-triggered webhooks (create, cancel, suspend, activate, capture) are delivered after the response, as
    PayPal does; ``await drain()`` waits for them. Buyer and billing actions deliver before they return.
    ``deliver`` may be assigned after construction (the receiver usually needs the client this simulator backs).
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        approval_base_url: str = "https://www.sandbox.paypal.com",
        api_base_url: str = "https://api-m.sandbox.paypal.com",
        clock: Callable[[], datetime] = utc_now,
        deliver: Deliver | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            webhook_id=webhook_id,
            approval_base_url=approval_base_url,
            api_base_url=api_base_url,
            clock=clock,
            deliver=deliver,
            seed=seed,
        )
        self.app = Starlette(routes=self._routes(), exception_handlers={HTTPException: self._http_exception})

    def _routes(self) -> list[Route]:
        products, plans = "/v1/catalogs/products", "/v1/billing/plans"
        subscriptions, orders = "/v1/billing/subscriptions", "/v2/checkout/orders"
        return [
            self._route("/v1/oauth2/token", "POST", self._issue_token, auth=False, token=True),
            Route("/v1/notifications/certs/{cert_id}", self._serve_certificate, methods=["GET"]),
            self._route(products, "POST", self._create_product, idempotent=True),
            self._route(products, "GET", self._list_products),
            self._route(products + "/{product_id}", "GET", self._get_product),
            self._route(plans, "POST", self._create_plan, idempotent=True),
            self._route(plans, "GET", self._list_plans),
            self._route(plans + "/{plan_id}", "GET", self._get_plan),
            self._route(subscriptions, "POST", self._create_subscription, idempotent=True),
            self._route(subscriptions + "/{subscription_id}", "GET", self._get_subscription),
            self._route(subscriptions + "/{subscription_id}/revise", "POST", self._revise, idempotent=True),
            self._route(subscriptions + "/{subscription_id}/cancel", "POST", self._cancel, idempotent=True),
            self._route(subscriptions + "/{subscription_id}/suspend", "POST", self._suspend, idempotent=True),
            self._route(subscriptions + "/{subscription_id}/activate", "POST", self._activate, idempotent=True),
            self._route(orders, "POST", self._create_order, idempotent=True),
            self._route(orders + "/{order_id}", "GET", self._get_order),
            self._route(orders + "/{order_id}/capture", "POST", self._capture, idempotent=True),
            self._route("/v1/notifications/verify-webhook-signature", "POST", self._verify),
        ]

    def _route(
        self,
        path: str,
        method: str,
        handler: Handler,
        *,
        auth: bool = True,
        idempotent: bool = False,
        token: bool = False,
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, handler, auth=auth, idempotent=idempotent, token=token)

        return Route(path, endpoint, methods=[method])

    async def _serve(
        self, request: Request, handler: Handler, *, auth: bool, idempotent: bool, token: bool
    ) -> Response:
        raw = await request.body()
        headers = {key.lower(): value for key, value in request.headers.items()}
        path = request.url.path
        self.requests.append(RecordedRequest(request.method, path, request.url.query, headers, raw))
        # From here to the answer nothing awaits, so each request sees and changes state atomically.
        debug_id = f"{self._rng.getrandbits(52):013x}"
        fault = self._matching_fault(path, token=token)
        if fault is not None and not fault.after_processing:
            return fault_response(fault, debug_id)
        try:
            if auth:
                self._authenticate(headers)
            request_id = headers.get("paypal-request-id")
            key = (path, request_id) if idempotent and request_id else None
            if key is not None and key in self._replies:
                # https://developer.paypal.com/reference/guidelines/idempotency/ : a repeated id gets the first
                # request's result, with 200 where the first answer was 201 Created.
                status, payload = self._replies[key]
                response = bytes_response(200 if status == 201 else status, payload, debug_id)
            else:
                call = Call(dict(request.path_params), dict(request.query_params), {}, raw, headers)
                if not token:
                    call.body = self._json_body(raw) if request.method == "POST" else {}
                status, body = handler(call)
                payload = b"" if body is None else json.dumps(body).encode()
                if key is not None and 200 <= status < 300:
                    self._replies[key] = (status, payload)
                response = bytes_response(status, payload, debug_id)
        except ApiError as error:
            response = error_response(error, debug_id)
        except OAuthError as error:
            body = {"error": error.error, "error_description": error.description}
            response = bytes_response(error.status, json.dumps(body).encode(), debug_id)
        if fault is not None:
            return fault_response(fault, debug_id)
        return response

    @staticmethod
    def _json_body(raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise ApiError(400, name="MALFORMED_REQUEST_JSON", message="The request JSON is not well formed.")
        return body

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return error_response(ApiError(status), f"{self._rng.getrandbits(52):013x}")

    async def _serve_certificate(self, request: Request) -> Response:
        # The certificate URL is public (no bearer), like PayPal's api.paypal.com/v1/notifications/certs/… links.
        if request.path_params.get("cert_id") != self.cert_id:
            return error_response(ApiError(404), f"{self._rng.getrandbits(52):013x}")
        return Response(self.certificate_pem, media_type="application/x-pem-file")

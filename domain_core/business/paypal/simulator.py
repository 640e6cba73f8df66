"""In-memory PayPal sandbox: the REST endpoints PromptSales uses, buyer actions, billing cycles, signed webhooks."""

import asyncio
import base64
import binascii
import calendar
import hmac
import json
import random
import string
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.shared.clock import utc_now

Deliver = Callable[[dict[str, str], bytes], Awaitable[int]]
Handler = Callable[["_Call"], tuple[int, Any]]

TOKEN_LIFETIME_S = 32400  # what PayPal's sandbox answers in expires_in
_ALNUM = string.ascii_uppercase + string.digits
_INFORMATION_LINK = "https://developer.paypal.com/api/rest/responses/#link-errorresponses"

# Standard names and messages of PayPal's error answers. https://developer.paypal.com/api/rest/responses/
_STANDARD_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The server does not support the request payload's media type."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
    502: ("BAD_GATEWAY", "The upstream server returned an invalid response."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
    504: ("GATEWAY_TIMEOUT", "The server did not answer in time."),
}

# https://developer.paypal.com/docs/api/subscriptions/v1/#definition-frequency : interval_count limits per unit.
_INTERVAL_LIMITS = {"DAY": 365, "WEEK": 52, "MONTH": 12, "YEAR": 1}
_ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})


class SimulatorError(Exception):
    """A control method was used on an unknown object or in a state where the action cannot happen."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator received, as it arrived (header names lower-cased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class EmittedEvent:
    """A signed webhook transmission: the exact headers and bytes sent, and the event they carry."""

    headers: dict[str, str]
    raw_body: bytes
    event: dict[str, Any]

    @property
    def id(self) -> str:
        """The event id (``WH-…``)."""
        return str(self.event["id"])

    @property
    def event_type(self) -> str:
        """The event type, e.g. ``BILLING.SUBSCRIPTION.ACTIVATED``."""
        return str(self.event["event_type"])


@dataclass(frozen=True)
class DeliveryAttempt:
    """What the receiver answered to one delivery (``status`` None when ``deliver`` raised)."""

    event_id: str
    transmission_id: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver acknowledged it with a 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Fault:
    status: int
    remaining: int
    name: str
    message: str
    retry_after: int | None
    include_token: bool
    path_prefix: str | None
    after_processing: bool


class _ApiError(Exception):
    """Becomes PayPal's error answer {name, message, debug_id, details[], links}."""

    def __init__(
        self,
        status: int,
        *,
        name: str | None = None,
        message: str | None = None,
        details: Sequence[dict[str, str]] = (),
    ) -> None:
        standard_name, standard_message = _STANDARD_ERRORS.get(status, (f"HTTP_{status}", "Request failed."))
        super().__init__(name or standard_name)
        self.status = status
        self.name = name or standard_name
        self.message = message or standard_message
        self.details = list(details)


class _OAuthError(Exception):
    """Becomes the token endpoint's OAuth error answer {error, error_description}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


def _issue(path: str, issue: str, description: str, *, location: str = "body") -> dict[str, str]:
    return {"field": path, "location": location, "issue": issue, "description": description}


def _invalid(*issues: dict[str, str]) -> _ApiError:
    return _ApiError(400, details=list(issues))


def _not_found(path: str, description: str, *, location: str = "path") -> _ApiError:
    return _ApiError(404, details=[_issue(path, "INVALID_RESOURCE_ID", description, location=location)])


def _unprocessable(issue: str, description: str) -> _ApiError:
    return _ApiError(422, details=[{"issue": issue, "description": description}])


@dataclass
class _Call:
    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add_interval(moment: datetime, unit: str, count: int) -> datetime:
    if unit == "DAY":
        return moment + timedelta(days=count)
    if unit == "WEEK":
        return moment + timedelta(weeks=count)
    months = count * (12 if unit == "YEAR" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _money(value: Decimal, currency: str) -> dict[str, str]:
    places = Decimal(1) if currency in _ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return {"currency_code": currency, "value": f"{value.quantize(places):f}"}


def _read_money(raw: Any, path: str, *, allow_zero: bool) -> tuple[Decimal, str] | dict[str, str]:
    """A {currency_code, value} object, or the issue describing what is wrong with it."""
    # https://developer.paypal.com/docs/api/orders/v2/#definition-money
    if not isinstance(raw, dict):
        return _issue(path, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
    currency, value = raw.get("currency_code"), raw.get("value")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        return _issue(f"{path}/currency_code", "INVALID_PARAMETER_SYNTAX", "currency_code must be ISO 4217.")
    if not isinstance(value, str):
        return _issue(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "value must be a decimal string.")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return _issue(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "value must be a decimal string.")
    places = 0 if currency in _ZERO_DECIMAL_CURRENCIES else 2
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or (isinstance(exponent, int) and -exponent > places):
        return _issue(f"{path}/value", "DECIMAL_PRECISION", f"{currency} takes at most {places} decimal places.")
    if amount < 0 or (amount == 0 and not allow_zero):
        return _issue(f"{path}/value", "INVALID_PARAMETER_VALUE", "value must be greater than zero.")
    return amount, currency


def _text(
    body: Mapping[str, Any], key: str, path: str, issues: list[dict[str, str]], *, required: bool, max_length: int
) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            issues.append(_issue(path, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing."))
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        issues.append(_issue(path, "INVALID_PARAMETER_SYNTAX", f"Must be a string of 1 to {max_length} characters."))
        return None
    return value


def _url(value: Any, path: str, issues: list[dict[str, str]]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        issues.append(_issue(path, "INVALID_PARAMETER_SYNTAX", "Must be an absolute http(s) URL."))
        return None
    return str(value)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


@dataclass
class _Product:
    id: str
    name: str
    type: str
    description: str | None
    created: datetime


@dataclass
class _Plan:
    id: str
    product_id: str
    name: str
    status: str
    description: str | None
    cycles: list[dict[str, Any]]  # sorted by sequence, as PayPal shows them
    failure_threshold: int
    auto_bill_outstanding: bool
    created: datetime

    def price(self, index: int) -> Decimal:
        fixed = self.cycles[index].get("pricing_scheme", {}).get("fixed_price")
        return Decimal(fixed["value"]) if fixed else Decimal(0)

    @property
    def currency(self) -> str:
        for cycle in self.cycles:
            fixed = cycle.get("pricing_scheme", {}).get("fixed_price")
            if fixed:
                return str(fixed["currency_code"])
        return "USD"

    @property
    def regular_index(self) -> int:
        return next(i for i, cycle in enumerate(self.cycles) if cycle["tenure_type"] == "REGULAR")


@dataclass
class _Subscription:
    id: str
    plan_id: str
    status: str
    custom_id: str | None
    email: str | None
    context: dict[str, Any]
    created: datetime
    updated: datetime
    status_updated: datetime
    start_time: datetime
    approval_token: str
    completed: list[int]
    cycle_index: int = 0
    next_billing_time: datetime | None = None
    failed_payments_count: int = 0
    outstanding: Decimal = Decimal(0)
    last_payment: dict[str, Any] | None = None
    last_failed_payment: dict[str, Any] | None = None
    payer_id: str | None = None
    status_change_note: str | None = None
    pending_plan_id: str | None = None
    revision_token: str | None = None


@dataclass
class _Order:
    id: str
    status: str
    unit: dict[str, Any]
    context: dict[str, Any]
    via_payment_source: bool
    created: datetime
    updated: datetime
    payer_id: str | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)


class PayPalSimulator:
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
        self.client_id = client_id
        self._client_secret = client_secret
        self.webhook_id = webhook_id
        self.approval_base_url = approval_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.clock = clock
        self.deliver = deliver
        self._rng = random.Random(seed)
        self.requests: list[RecordedRequest] = []
        self.events: list[EmittedEvent] = []
        self.deliveries: list[DeliveryAttempt] = []
        self._tokens: dict[str, datetime] = {}
        self._products: dict[str, _Product] = {}
        self._plans: dict[str, _Plan] = {}
        self._subscriptions: dict[str, _Subscription] = {}
        self._orders: dict[str, _Order] = {}
        self._approvals: dict[str, tuple[str, str]] = {}  # token → (kind, object id)
        self._replies: dict[tuple[str, str], tuple[int, bytes]] = {}  # (path, PayPal-Request-Id) → first answer
        self._faults: list[_Fault] = []
        self._decline_next_capture = False
        self._transmissions: dict[str, EmittedEvent] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._tail: asyncio.Task[None] | None = None  # the last queued delivery; each one waits for its predecessor
        self._identity_cache: signing.SigningIdentity | None = None
        self.cert_id = f"CERT-360caa42-fca2a594-{self._rng.getrandbits(32):08x}"
        self.app = Starlette(routes=self._routes(), exception_handlers={HTTPException: self._http_exception})

    # ------------------------------------------------------------------------------------- public state

    @property
    def cert_url(self) -> str:
        """Where this simulator publishes the certificate its webhook signatures verify against."""
        return f"{self.api_base_url}/v1/notifications/certs/{self.cert_id}"

    @property
    def certificate_pem(self) -> bytes:
        """The PEM certificate served at ``cert_url``."""
        return self._identity.certificate_pem

    @property
    def product_ids(self) -> tuple[str, ...]:
        """Ids of the products created so far."""
        return tuple(self._products)

    @property
    def plan_ids(self) -> tuple[str, ...]:
        """Ids of the plans created so far."""
        return tuple(self._plans)

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        """Ids of the subscriptions created so far."""
        return tuple(self._subscriptions)

    @property
    def order_ids(self) -> tuple[str, ...]:
        """Ids of the orders created so far."""
        return tuple(self._orders)

    # -------------------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        name: str | None = None,
        message: str | None = None,
        include_token: bool = False,
        path_prefix: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """Make the next ``times`` API requests (matching ``path_prefix``) answer ``status``.

        ``after_processing`` fails them only after they took effect (PayPal's "5xx may have created it" case);
        ``include_token`` lets the faults hit the token endpoint too.
        """
        standard_name, standard_message = _STANDARD_ERRORS.get(status, (f"HTTP_{status}", "Request failed."))
        self._faults.append(
            _Fault(
                status=status,
                remaining=times,
                name=name or standard_name,
                message=message or standard_message,
                retry_after=retry_after,
                include_token=include_token,
                path_prefix=path_prefix,
                after_processing=after_processing,
            )
        )

    def decline_next_capture(self) -> None:
        """The next capture completes the order but its capture is DECLINED (PAYMENT.CAPTURE.DECLINED)."""
        self._decline_next_capture = True

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (callers get 401 until they fetch a new one)."""
        self._tokens.clear()

    # ------------------------------------------------------------------------------- buyer and billing

    def approval_token_for(self, approve_url: str) -> str:
        """The token in an approval link (``ba_token`` for subscriptions, ``token`` for orders)."""
        query = parse_qs(urlsplit(approve_url).query)
        for key in ("ba_token", "token"):
            for value in query.get(key, []):
                if value in self._approvals:
                    return value
        raise SimulatorError("the link carries no approval token issued by this simulator")

    async def approve(self, token: str) -> str | None:
        """The buyer approves whatever ``token`` belongs to; returns the return_url PayPal redirects to."""
        kind, object_id = self._approval(token)
        if kind == "order":
            await self.approve_order(object_id)
            order = self._orders[object_id]
            target = order.context.get("return_url")
            return _with_query(target, {"token": order.id, "PayerID": order.payer_id or ""}) if target else None
        subscription = self._subscriptions[object_id]
        # Each link approves only what it was issued for: a spent sign-up link cannot confirm a later revision.
        if token == subscription.revision_token:
            await self._send_now(self._apply_revision(subscription))
        elif subscription.status == "APPROVAL_PENDING":
            await self.approve_subscription(object_id)
        else:
            raise SimulatorError(f"subscription {object_id} is {subscription.status}; this link was already used")
        target = subscription.context.get("return_url")
        if not target:
            return None
        return _with_query(target, {"subscription_id": subscription.id, "ba_token": token, "token": self._ref("EC-")})

    def cancel_approval(self, token: str) -> str | None:
        """The buyer backs out at PayPal; nothing changes and PayPal sends them to the cancel_url."""
        kind, object_id = self._approval(token)
        context = self._orders[object_id].context if kind == "order" else self._subscriptions[object_id].context
        target = context.get("cancel_url")
        return _with_query(target, {"token": token}) if target else None

    async def approve_subscription(self, subscription_id: str) -> None:
        """The buyer approves: ACTIVE, then the first cycle bills (no sale during a free trial).

        On an ACTIVE/SUSPENDED subscription with a pending revision, applies the revision instead.
        """
        subscription = self._subscription(subscription_id)
        if subscription.status != "APPROVAL_PENDING":
            if subscription.pending_plan_id is None:
                raise SimulatorError(f"subscription {subscription_id} is {subscription.status}; nothing to approve")
            await self._send_now(self._apply_revision(subscription))
            return
        now = self.clock()
        subscription.payer_id = subscription.payer_id or self._ref("", 13)
        subscription.start_time = now
        self._set_status(subscription, "ACTIVE", now)
        emitted = [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.ACTIVATED", "Subscription activated")]
        emitted += self._bill(subscription, at=now, succeed=True)
        await self._send_now(emitted)

    async def bill_cycle(self, subscription_id: str, *, succeed: bool = True) -> None:
        """PayPal runs the due billing cycle: PAYMENT.SALE.COMPLETED, or BILLING.SUBSCRIPTION.PAYMENT.FAILED."""
        subscription = self._subscription(subscription_id)
        if subscription.status != "ACTIVE" or subscription.next_billing_time is None:
            raise SimulatorError(f"subscription {subscription_id} is {subscription.status}; nothing is billed")
        await self._send_now(self._bill(subscription, at=subscription.next_billing_time, succeed=succeed))

    async def approve_order(self, order_id: str) -> None:
        """The buyer approves the order at PayPal: APPROVED, CHECKOUT.ORDER.APPROVED."""
        order = self._order(order_id)
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise SimulatorError(f"order {order_id} is {order.status}; it cannot be approved")
        order.status = "APPROVED"
        order.payer_id = self._ref("", 13)
        order.updated = self.clock()
        event = self._event(
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            "2.0",
            "An order has been approved by buyer",
            self._order_json(order),
        )
        await self._send_now([event])

    async def redeliver(self, event_id: str, times: int = 1) -> list[DeliveryAttempt]:
        """Send an emitted event again, byte for byte with its original headers (PayPal's retry/resend)."""
        emitted = next((e for e in self.events if e.id == event_id), None)
        if emitted is None:
            raise SimulatorError(f"no event {event_id} was emitted")
        if self.deliver is None:
            raise SimulatorError("the simulator has no deliver callback")
        return [await self._deliver_one(emitted) for _ in range(times)]

    async def drain(self) -> None:
        """Wait until the webhooks triggered by API calls have been delivered."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    # ------------------------------------------------------------------------------------ HTTP serving

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
            return self._fault_response(fault, debug_id)
        try:
            if auth:
                self._authenticate(headers)
            request_id = headers.get("paypal-request-id")
            key = (path, request_id) if idempotent and request_id else None
            if key is not None and key in self._replies:
                # https://developer.paypal.com/reference/guidelines/idempotency/ : a repeated id gets the first
                # request's result, with 200 where the first answer was 201 Created.
                status, payload = self._replies[key]
                response = self._bytes_response(200 if status == 201 else status, payload, debug_id)
            else:
                call = _Call(dict(request.path_params), dict(request.query_params), {}, raw, headers)
                if not token:
                    call.body = self._json_body(raw) if request.method == "POST" else {}
                status, body = handler(call)
                payload = b"" if body is None else json.dumps(body).encode()
                if key is not None and 200 <= status < 300:
                    self._replies[key] = (status, payload)
                response = self._bytes_response(status, payload, debug_id)
        except _ApiError as error:
            response = self._error_response(error, debug_id)
        except _OAuthError as error:
            body = {"error": error.error, "error_description": error.description}
            response = self._bytes_response(error.status, json.dumps(body).encode(), debug_id)
        if fault is not None:
            return self._fault_response(fault, debug_id)
        return response

    def _matching_fault(self, path: str, *, token: bool) -> _Fault | None:
        for fault in self._faults:
            if (token and not fault.include_token) or (fault.path_prefix and not path.startswith(fault.path_prefix)):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _fault_response(self, fault: _Fault, debug_id: str) -> Response:
        response = self._error_response(_ApiError(fault.status, name=fault.name, message=fault.message), debug_id)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        expires = self._tokens.get(credential) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self.clock():
            raise _ApiError(401)

    @staticmethod
    def _json_body(raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise _ApiError(400, name="MALFORMED_REQUEST_JSON", message="The request JSON is not well formed.")
        return body

    @staticmethod
    def _bytes_response(status: int, payload: bytes, debug_id: str) -> Response:
        headers = {"paypal-debug-id": debug_id}
        if status == 204:
            return Response(status_code=204, headers=headers)
        return Response(payload, status_code=status, headers=headers, media_type="application/json")

    def _error_response(self, error: _ApiError, debug_id: str) -> Response:
        body = {
            "name": error.name,
            "message": error.message,
            "debug_id": debug_id,
            "details": error.details,
            "links": [{"href": _INFORMATION_LINK, "rel": "information_link", "method": "GET"}],
        }
        return self._bytes_response(error.status, json.dumps(body).encode(), debug_id)

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return self._error_response(_ApiError(status), f"{self._rng.getrandbits(52):013x}")

    async def _serve_certificate(self, request: Request) -> Response:
        # The certificate URL is public (no bearer), like PayPal's api.paypal.com/v1/notifications/certs/… links.
        if request.path_params.get("cert_id") != self.cert_id:
            return self._error_response(_ApiError(404), f"{self._rng.getrandbits(52):013x}")
        return Response(self.certificate_pem, media_type="application/x-pem-file")

    # ------------------------------------------------------------------------------------------- OAuth

    def _issue_token(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/api/rest/authentication/ : Basic client_id:secret +
        # grant_type=client_credentials → {scope, access_token, token_type, app_id, expires_in, nonce}
        scheme, _, encoded = call.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        valid = (
            scheme.lower() == "basic"
            and hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(secret.encode(), self._client_secret.encode())
        )
        if not valid:
            raise _OAuthError(401, "invalid_client", "Client Authentication failed")
        form = parse_qs(call.raw.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            raise _OAuthError(400, "unsupported_grant_type", "Grant Type is NULL")
        now = self.clock()
        access_token = "A21AA" + "".join(self._rng.choices(string.ascii_letters + string.digits + "-_", k=92))
        self._tokens[access_token] = now + timedelta(seconds=TOKEN_LIFETIME_S)
        return 200, {
            "scope": "https://uri.paypal.com/services/subscriptions https://uri.paypal.com/services/payments/payment",
            "access_token": access_token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": TOKEN_LIFETIME_S,
            "nonce": f"{_iso(now)}{self._ref('', 20)}",
        }

    # ----------------------------------------------------------------------------------------- catalog

    def _create_product(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/catalog-products/v1/#products_create
        issues: list[dict[str, str]] = []
        name = _text(call.body, "name", "/name", issues, required=True, max_length=127)
        kind = call.body.get("type", "PHYSICAL")
        if kind not in ("PHYSICAL", "DIGITAL", "SERVICE"):
            issues.append(_issue("/type", "INVALID_PARAMETER_VALUE", "type must be PHYSICAL, DIGITAL or SERVICE."))
        description = _text(call.body, "description", "/description", issues, required=False, max_length=256)
        if issues or name is None:
            raise _invalid(*issues)
        product = _Product(self._ref("PROD-", 17), name, str(kind), description, self.clock())
        self._products[product.id] = product
        return 201, self._product_json(product)

    def _list_products(self, call: _Call) -> tuple[int, Any]:
        page = self._page(call, list(self._products.values()))
        return 200, {"products": [self._product_json(p) for p in page], "links": []}

    def _get_product(self, call: _Call) -> tuple[int, Any]:
        product = self._products.get(call.params["product_id"])
        if product is None:
            raise _not_found("product_id", "The specified product does not exist.")
        return 200, self._product_json(product)

    def _product_json(self, product: _Product) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": product.type,
            "create_time": _iso(product.created),
            "update_time": _iso(product.created),
            "links": self._links(f"/v1/catalogs/products/{product.id}", edit=True),
        }
        if product.description:
            body["description"] = product.description
        return body

    # ------------------------------------------------------------------------------------------- plans

    def _create_plan(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_create
        body = call.body
        issues: list[dict[str, str]] = []
        product_id = _text(body, "product_id", "/product_id", issues, required=True, max_length=50)
        name = _text(body, "name", "/name", issues, required=True, max_length=127)
        description = _text(body, "description", "/description", issues, required=False, max_length=127)
        status = body.get("status", "ACTIVE")
        if status not in ("CREATED", "ACTIVE", "INACTIVE"):
            issues.append(_issue("/status", "INVALID_PARAMETER_VALUE", "status must be CREATED, ACTIVE or INACTIVE."))
        cycles = self._read_cycles(body.get("billing_cycles"), issues)
        preferences = body.get("payment_preferences", {})
        threshold = preferences.get("payment_failure_threshold", 0) if isinstance(preferences, dict) else None
        if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= 999:
            issues.append(
                _issue(
                    "/payment_preferences/payment_failure_threshold",
                    "INVALID_PARAMETER_VALUE",
                    "Must be an integer from 0 to 999.",
                )
            )
        if issues or product_id is None or name is None or cycles is None or not isinstance(threshold, int):
            raise _invalid(*issues)
        if product_id not in self._products:
            raise _not_found("/product_id", "The specified product does not exist.", location="body")
        plan = _Plan(
            id=self._ref("P-", 24),
            product_id=product_id,
            name=name,
            status=str(status),
            description=description,
            cycles=cycles,
            failure_threshold=threshold,
            auto_bill_outstanding=bool(preferences.get("auto_bill_outstanding", True)),
            created=self.clock(),
        )
        self._plans[plan.id] = plan
        return 201, self._plan_json(plan)

    @staticmethod
    def _read_cycles(raw: Any, issues: list[dict[str, str]]) -> list[dict[str, Any]] | None:
        """billing_cycles: at most 2 TRIAL then exactly 1 REGULAR, sequences 1..n, one currency."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#definition-billing_cycle
        if not isinstance(raw, list) or not raw:
            issues.append(_issue("/billing_cycles", "MISSING_REQUIRED_PARAMETER", "At least one cycle is required."))
            return None
        cycles: list[dict[str, Any]] = []
        currencies: set[str] = set()
        for index, cycle in enumerate(raw):
            path = f"/billing_cycles/{index}"
            if not isinstance(cycle, dict):
                issues.append(_issue(path, "INVALID_PARAMETER_SYNTAX", "A cycle must be an object."))
                continue
            raw_frequency = cycle.get("frequency")
            frequency: dict[str, Any] = raw_frequency if isinstance(raw_frequency, dict) else {}
            unit, count = frequency.get("interval_unit"), frequency.get("interval_count", 1)
            tenure, sequence, total = cycle.get("tenure_type"), cycle.get("sequence"), cycle.get("total_cycles", 1)
            if unit not in _INTERVAL_LIMITS:
                issues.append(
                    _issue(f"{path}/frequency/interval_unit", "INVALID_PARAMETER_VALUE", "DAY, WEEK, MONTH or YEAR.")
                )
            elif not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _INTERVAL_LIMITS[unit]:
                issues.append(
                    _issue(
                        f"{path}/frequency/interval_count",
                        "INVALID_PARAMETER_VALUE",
                        f"Must be 1 to {_INTERVAL_LIMITS[unit]} for {unit}.",
                    )
                )
            if tenure not in ("TRIAL", "REGULAR"):
                issues.append(_issue(f"{path}/tenure_type", "INVALID_PARAMETER_VALUE", "TRIAL or REGULAR."))
            if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= 99:
                issues.append(_issue(f"{path}/sequence", "INVALID_PARAMETER_VALUE", "Must be 1 to 99."))
            minimum = 0 if tenure == "REGULAR" else 1  # 0 = infinite, allowed for the REGULAR cycle only
            if not isinstance(total, int) or isinstance(total, bool) or not minimum <= total <= 999:
                issues.append(_issue(f"{path}/total_cycles", "INVALID_PARAMETER_VALUE", f"Must be {minimum} to 999."))
            scheme = cycle.get("pricing_scheme")
            fixed = scheme.get("fixed_price") if isinstance(scheme, dict) else None
            entry = {
                "frequency": {"interval_unit": unit, "interval_count": count},
                "tenure_type": tenure,
                "sequence": sequence,
                "total_cycles": total,
            }
            if fixed is not None or tenure == "REGULAR":  # a TRIAL without a price is a free trial
                money = _read_money(fixed, f"{path}/pricing_scheme/fixed_price", allow_zero=tenure == "TRIAL")
                if isinstance(money, dict):
                    issues.append(money)
                else:
                    currencies.add(money[1])
                    entry["pricing_scheme"] = {"version": 1, "fixed_price": _money(*money)}
            cycles.append(entry)
        if issues:
            return None
        cycles.sort(key=lambda c: int(c["sequence"]))
        tenures = [c["tenure_type"] for c in cycles]
        if tenures.count("REGULAR") != 1 or tenures[-1] != "REGULAR" or tenures.count("TRIAL") > 2:
            issues.append(
                _issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "Up to 2 TRIAL cycles, then exactly 1 REGULAR.")
            )
        if [c["sequence"] for c in cycles] != list(range(1, len(cycles) + 1)):
            issues.append(_issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "Sequences must run 1, 2, 3."))
        if len(currencies) > 1:
            issues.append(_issue("/billing_cycles", "INVALID_PARAMETER_VALUE", "All cycles must use one currency."))
        return None if issues else cycles

    def _list_plans(self, call: _Call) -> tuple[int, Any]:
        product_id = call.query.get("product_id")
        plans = [p for p in self._plans.values() if product_id is None or p.product_id == product_id]
        return 200, {"plans": [self._plan_json(p) for p in self._page(call, plans)], "links": []}

    def _get_plan(self, call: _Call) -> tuple[int, Any]:
        return 200, self._plan_json(self._plan(call.params["plan_id"], "plan_id"))

    def _plan(self, plan_id: str, field_path: str, *, location: str = "path") -> _Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise _not_found(field_path, "The specified plan does not exist.", location=location)
        return plan

    def _plan_json(self, plan: _Plan) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": plan.id,
            "product_id": plan.product_id,
            "name": plan.name,
            "status": plan.status,
            "usage_type": "LICENSED",
            "billing_cycles": plan.cycles,
            "payment_preferences": {
                "service_type": "PREPAID",
                "auto_bill_outstanding": plan.auto_bill_outstanding,
                "setup_fee": _money(Decimal(0), plan.currency),
                "setup_fee_failure_action": "CANCEL",
                "payment_failure_threshold": plan.failure_threshold,
            },
            "quantity_supported": False,
            "create_time": _iso(plan.created),
            "update_time": _iso(plan.created),
            "links": self._links(f"/v1/billing/plans/{plan.id}", edit=True),
        }
        if plan.description:
            body["description"] = plan.description
        return body

    # ----------------------------------------------------------------------------------- subscriptions

    def _create_subscription(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_create
        body = call.body
        issues: list[dict[str, str]] = []
        plan_id = _text(body, "plan_id", "/plan_id", issues, required=True, max_length=50)
        custom_id = _text(body, "custom_id", "/custom_id", issues, required=False, max_length=127)
        raw_subscriber = body.get("subscriber")
        subscriber: dict[str, Any] = raw_subscriber if isinstance(raw_subscriber, dict) else {}
        email = _text(subscriber, "email_address", "/subscriber/email_address", issues, required=False, max_length=254)
        if email is not None and "@" not in email:
            issues.append(_issue("/subscriber/email_address", "INVALID_PARAMETER_SYNTAX", "Not an email address."))
        raw_context = body.get("application_context")
        context: dict[str, Any] = dict(raw_context) if isinstance(raw_context, dict) else {}
        for key in ("return_url", "cancel_url"):
            context[key] = _url(context.get(key), f"/application_context/{key}", issues)
        if issues or plan_id is None:
            raise _invalid(*issues)
        plan = self._plan(plan_id, "/plan_id", location="body")
        if plan.status != "ACTIVE":
            raise _unprocessable(
                "PLAN_STATUS_INVALID", "Invalid plan status for subscribe action; plan status should be active."
            )
        now = self.clock()
        subscription = _Subscription(
            id=self._ref("I-", 12),
            plan_id=plan.id,
            status="APPROVAL_PENDING",
            custom_id=custom_id,
            email=email,
            context=context,
            created=now,
            updated=now,
            status_updated=now,
            start_time=now,
            approval_token=self._ref("BA-", 17),
            completed=[0] * len(plan.cycles),
        )
        self._subscriptions[subscription.id] = subscription
        self._approvals[subscription.approval_token] = ("subscription", subscription.id)
        self._send_later(
            [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.CREATED", "Subscription created")]
        )
        return 201, self._subscription_json(subscription)

    def _get_subscription(self, call: _Call) -> tuple[int, Any]:
        return 200, self._subscription_json(self._subscription_for(call))

    def _revise(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_revise : the buyer must approve
        # the change at the returned approve link before the new plan applies.
        subscription = self._subscription_for(call)
        issues: list[dict[str, str]] = []
        plan_id = _text(call.body, "plan_id", "/plan_id", issues, required=True, max_length=50)
        if issues or plan_id is None:
            raise _invalid(*issues)
        plan = self._plan(plan_id, "/plan_id", location="body")
        if subscription.status not in ("ACTIVE", "SUSPENDED"):
            raise _unprocessable(
                "SUBSCRIPTION_STATUS_INVALID",
                "Invalid subscription status for revise action; subscription status should be active or suspended.",
            )
        if plan.status != "ACTIVE":
            raise _unprocessable("PLAN_STATUS_INVALID", "Invalid plan status; plan status should be active.")
        if subscription.revision_token:
            self._approvals.pop(subscription.revision_token, None)
        subscription.pending_plan_id = plan.id
        subscription.revision_token = self._ref("BA-", 17)
        self._approvals[subscription.revision_token] = ("subscription", subscription.id)
        approve = (
            f"{self.approval_base_url}/webapps/billing/subscriptions/update?ba_token={subscription.revision_token}"
        )
        return 200, {
            "plan_id": plan.id,
            "effective_time": _iso(subscription.next_billing_time or self.clock()),
            "plan_overridden": False,
            "links": [
                {"href": approve, "rel": "approve", "method": "GET"},
                *self._links(f"/v1/billing/subscriptions/{subscription.id}", edit=True),
            ],
        }

    def _cancel(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_cancel → 204
        return self._transition(call, "cancel", ("ACTIVE", "SUSPENDED"), "CANCELLED", "BILLING.SUBSCRIPTION.CANCELLED")

    def _suspend(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_suspend → 204
        return self._transition(call, "suspend", ("ACTIVE",), "SUSPENDED", "BILLING.SUBSCRIPTION.SUSPENDED")

    def _activate(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_activate → 204
        return self._transition(call, "activate", ("SUSPENDED",), "ACTIVE", "BILLING.SUBSCRIPTION.ACTIVATED")

    def _transition(
        self, call: _Call, action: str, allowed: tuple[str, ...], target: str, event_type: str
    ) -> tuple[int, Any]:
        subscription = self._subscription_for(call)
        issues: list[dict[str, str]] = []
        reason = _text(call.body, "reason", "/reason", issues, required=action != "activate", max_length=128)
        if issues:
            raise _invalid(*issues)
        if subscription.status not in allowed:
            wanted = " or ".join(status.lower() for status in allowed)
            raise _unprocessable(
                "SUBSCRIPTION_STATUS_INVALID",
                f"Invalid subscription status for {action} action; subscription status should be {wanted}.",
            )
        now = self.clock()
        subscription.status_change_note = reason
        if target == "CANCELLED":
            subscription.next_billing_time = None
        if target == "ACTIVE":
            subscription.failed_payments_count = 0  # [~] a reactivated subscription starts a fresh failure count
        self._set_status(subscription, target, now)
        summary = f"Subscription {target.lower()}"
        self._send_later([self._subscription_event(subscription, event_type, summary)])
        return 204, None

    def _subscription_for(self, call: _Call) -> _Subscription:
        subscription = self._subscriptions.get(call.params["subscription_id"])
        if subscription is None:
            raise _not_found("subscription_id", "The specified subscription does not exist.")
        return subscription

    def _subscription(self, subscription_id: str) -> _Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None:
            raise SimulatorError(f"no subscription {subscription_id}")
        return subscription

    def _set_status(self, subscription: _Subscription, status: str, now: datetime) -> None:
        subscription.status = status
        subscription.status_updated = subscription.updated = now

    def _subscription_json(self, subscription: _Subscription) -> dict[str, Any]:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_get
        plan = self._plans[subscription.plan_id]
        body: dict[str, Any] = {
            "id": subscription.id,
            "plan_id": subscription.plan_id,
            "status": subscription.status,
            "status_update_time": _iso(subscription.status_updated),
            "start_time": _iso(subscription.start_time),
            "quantity": "1",
            "plan_overridden": False,
            "create_time": _iso(subscription.created),
            "update_time": _iso(subscription.updated),
        }
        if subscription.custom_id:
            body["custom_id"] = subscription.custom_id
        if subscription.status_change_note:
            body["status_change_note"] = subscription.status_change_note
        subscriber: dict[str, Any] = {}
        if subscription.email:
            subscriber["email_address"] = subscription.email
        if subscription.payer_id:
            subscriber["payer_id"] = subscription.payer_id
            subscriber["name"] = {"given_name": "Sandbox", "surname": "Buyer"}
        if subscriber:
            body["subscriber"] = subscriber
        if subscription.status != "APPROVAL_PENDING":
            billing: dict[str, Any] = {
                "outstanding_balance": _money(subscription.outstanding, plan.currency),
                "cycle_executions": [
                    {
                        "tenure_type": cycle["tenure_type"],
                        "sequence": cycle["sequence"],
                        "cycles_completed": done,
                        "cycles_remaining": max(int(cycle["total_cycles"]) - done, 0),
                        "current_pricing_scheme_version": 1,
                        "total_cycles": cycle["total_cycles"],
                    }
                    for cycle, done in zip(plan.cycles, subscription.completed, strict=False)
                ],
                "failed_payments_count": subscription.failed_payments_count,
            }
            if subscription.last_payment:
                billing["last_payment"] = subscription.last_payment
            if subscription.last_failed_payment:
                billing["last_failed_payment"] = subscription.last_failed_payment
            if subscription.next_billing_time and subscription.status in ("ACTIVE", "SUSPENDED"):
                billing["next_billing_time"] = _iso(subscription.next_billing_time)
            body["billing_info"] = billing
        links = self._links(f"/v1/billing/subscriptions/{subscription.id}", edit=True)
        if subscription.status == "APPROVAL_PENDING":
            approve = f"{self.approval_base_url}/webapps/billing/subscriptions?ba_token={subscription.approval_token}"
            links.insert(0, {"href": approve, "rel": "approve", "method": "GET"})
        body["links"] = links
        return body

    def _bill(self, subscription: _Subscription, *, at: datetime, succeed: bool) -> list[EmittedEvent]:
        """Run the cycle due ``at``; the events it causes (none for a free cycle)."""
        plan = self._plans[subscription.plan_id]
        now = self.clock()
        if subscription.cycle_index >= len(plan.cycles):
            self._set_status(subscription, "EXPIRED", now)
            subscription.next_billing_time = None
            return [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.EXPIRED", "Subscription expired")]
        index = subscription.cycle_index
        cycle, price = plan.cycles[index], plan.price(index)
        if not succeed and price > 0:
            return self._fail_payment(subscription, plan, price, now)
        subscription.completed[index] += 1
        if cycle["total_cycles"] and subscription.completed[index] >= cycle["total_cycles"]:
            subscription.cycle_index += 1
        frequency = cycle["frequency"]
        subscription.next_billing_time = _add_interval(at, frequency["interval_unit"], frequency["interval_count"])
        subscription.updated = now
        if price == 0:
            return []
        subscription.failed_payments_count = 0  # [~] PayPal resets the count once a cycle is paid
        subscription.outstanding = Decimal(0)
        subscription.last_payment = {"amount": _money(price, plan.currency), "time": _iso(now)}
        return [self._sale_event(subscription, price, plan.currency, now)]

    def _fail_payment(
        self, subscription: _Subscription, plan: _Plan, price: Decimal, now: datetime
    ) -> list[EmittedEvent]:
        subscription.failed_payments_count += 1
        if plan.auto_bill_outstanding:
            subscription.outstanding += price
        subscription.last_failed_payment = {
            "amount": _money(price, plan.currency),
            "time": _iso(now),
            "reason_code": "PAYMENT_DENIED",
        }
        subscription.updated = now
        events = [
            self._subscription_event(subscription, "BILLING.SUBSCRIPTION.PAYMENT.FAILED", "Subscription payment failed")
        ]
        if plan.failure_threshold and subscription.failed_payments_count >= plan.failure_threshold:
            subscription.status_change_note = "Payment failure threshold reached"
            self._set_status(subscription, "SUSPENDED", now)
            events.append(
                self._subscription_event(subscription, "BILLING.SUBSCRIPTION.SUSPENDED", "Subscription suspended")
            )
        return events

    def _apply_revision(self, subscription: _Subscription) -> list[EmittedEvent]:
        plan = self._plans[str(subscription.pending_plan_id)]
        subscription.plan_id = plan.id
        subscription.completed = [0] * len(plan.cycles)
        subscription.cycle_index = plan.regular_index  # a plan switch does not grant the new plan's trial
        subscription.pending_plan_id = None
        if subscription.revision_token:
            self._approvals.pop(subscription.revision_token, None)
        subscription.revision_token = None
        subscription.updated = self.clock()
        return [self._subscription_event(subscription, "BILLING.SUBSCRIPTION.UPDATED", "Subscription updated")]

    # ------------------------------------------------------------------------------------------ orders

    def _create_order(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_create
        body = call.body
        issues: list[dict[str, str]] = []
        if body.get("intent") is None:
            issues.append(_issue("/intent", "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing."))
        elif body.get("intent") != "CAPTURE":
            issues.append(_issue("/intent", "INVALID_PARAMETER_VALUE", "This sandbox simulates intent CAPTURE only."))
        units = body.get("purchase_units")
        unit: dict[str, Any] = {}
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            issues.append(
                _issue("/purchase_units", "INVALID_PARAMETER_VALUE", "This sandbox takes exactly one purchase unit.")
            )
        else:
            raw = units[0]
            money = _read_money(raw.get("amount"), "/purchase_units/0/amount", allow_zero=False)
            if isinstance(money, dict):
                issues.append(money)
            else:
                unit["amount"] = _money(*money)
            unit["reference_id"] = (
                _text(raw, "reference_id", "/purchase_units/0/reference_id", issues, required=False, max_length=256)
                or "default"
            )
            for key in ("custom_id", "description"):
                value = _text(raw, key, f"/purchase_units/0/{key}", issues, required=False, max_length=127)
                if value is not None:
                    unit[key] = value
        source = body.get("payment_source")
        paypal = source.get("paypal") if isinstance(source, dict) else None
        if isinstance(paypal, dict):
            context_path = "/payment_source/paypal/experience_context"
            raw_context = paypal.get("experience_context")
        else:
            context_path, raw_context = "/application_context", body.get("application_context")
        context: dict[str, Any] = dict(raw_context) if isinstance(raw_context, dict) else {}
        for key in ("return_url", "cancel_url"):
            context[key] = _url(context.get(key), f"{context_path}/{key}", issues)
        if issues:
            raise _invalid(*issues)
        now = self.clock()
        # With a payment_source PayPal answers PAYER_ACTION_REQUIRED + rel=payer-action, else CREATED + rel=approve.
        via_source = isinstance(paypal, dict)
        order = _Order(
            id=self._ref("", 17),
            status="PAYER_ACTION_REQUIRED" if via_source else "CREATED",
            unit=unit,
            context=context,
            via_payment_source=via_source,
            created=now,
            updated=now,
        )
        self._orders[order.id] = order
        self._approvals[order.id] = ("order", order.id)
        return 201, self._order_json(order)

    def _get_order(self, call: _Call) -> tuple[int, Any]:
        return 200, self._order_json(self._order_for(call))

    def _capture(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_capture
        order = self._order_for(call)
        if order.status == "COMPLETED":
            raise _unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order.status != "APPROVED":
            raise _unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        now = self.clock()
        declined, self._decline_next_capture = self._decline_next_capture, False
        capture: dict[str, Any] = {
            "id": self._ref("", 17),
            "status": "DECLINED" if declined else "COMPLETED",
            "amount": order.unit["amount"],
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
            "create_time": _iso(now),
            "update_time": _iso(now),
        }
        if "custom_id" in order.unit:
            capture["custom_id"] = order.unit["custom_id"]
        capture["links"] = self._links(f"/v2/payments/captures/{capture['id']}")
        order.captures.append(capture)
        order.status = "COMPLETED"  # a declined capture still completes the order; captures[].status tells
        order.updated = now
        resource = {**capture, "supplementary_data": {"related_ids": {"order_id": order.id}}}
        if declined:
            event = self._event(
                "PAYMENT.CAPTURE.DECLINED", "capture", "2.0", "A payment capture was declined", resource
            )
        else:
            amount = capture["amount"]
            summary = f"Payment completed for {amount['value']} {amount['currency_code']}"
            event = self._event("PAYMENT.CAPTURE.COMPLETED", "capture", "2.0", summary, resource)
        self._send_later([event])
        return 201, self._order_json(order)

    def _order_for(self, call: _Call) -> _Order:
        order = self._orders.get(call.params["order_id"])
        if order is None:
            raise _not_found("order_id", "The specified order does not exist.")
        return order

    def _order(self, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None:
            raise SimulatorError(f"no order {order_id}")
        return order

    def _order_json(self, order: _Order) -> dict[str, Any]:
        # https://developer.paypal.com/docs/api/orders/v2/#orders_get
        unit = dict(order.unit)
        if order.captures:
            unit["payments"] = {"captures": order.captures}
        body: dict[str, Any] = {
            "id": order.id,
            "intent": "CAPTURE",
            "status": order.status,
            "purchase_units": [unit],
            "create_time": _iso(order.created),
            "update_time": _iso(order.updated),
        }
        if order.payer_id:
            body["payer"] = {
                "name": {"given_name": "Sandbox", "surname": "Buyer"},
                "email_address": f"buyer-{order.payer_id.lower()}@example.com",
                "payer_id": order.payer_id,
            }
        links = self._links(f"/v2/checkout/orders/{order.id}")
        approve = f"{self.approval_base_url}/checkoutnow?token={order.id}"
        if order.status == "CREATED":
            links.append({"href": approve, "rel": "approve", "method": "GET"})
        elif order.status == "PAYER_ACTION_REQUIRED":
            links.append({"href": approve, "rel": "payer-action", "method": "GET"})
        elif order.status == "APPROVED":
            href = f"{self.api_base_url}/v2/checkout/orders/{order.id}/capture"
            links.append({"href": href, "rel": "capture", "method": "POST"})
        body["links"] = links
        return body

    # ---------------------------------------------------------------------------------------- webhooks

    def _verify(self, call: _Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature : FAILURE is still HTTP 200.
        body = call.body
        issues: list[dict[str, str]] = []
        fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        values = {key: _text(body, key, f"/{key}", issues, required=True, max_length=4096) for key in fields}
        event = body.get("webhook_event")
        if not isinstance(event, dict):
            issues.append(
                _issue("/webhook_event", "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
            )
        if issues:
            raise _invalid(*issues)
        sent = self._transmissions.get(str(values["transmission_id"]))
        genuine = (
            sent is not None
            and values["webhook_id"] == self.webhook_id
            and values["auth_algo"] == signing.SHA256_WITH_RSA
            and values["cert_url"] == self.cert_url
            and values["transmission_time"] == sent.headers[signing.TRANSMISSION_TIME]
            and signing.verify_signature(
                self.certificate_pem,
                signing.transmission_message(
                    transmission_id=str(values["transmission_id"]),
                    transmission_time=str(values["transmission_time"]),
                    webhook_id=str(values["webhook_id"]),
                    raw_body=sent.raw_body,
                ),
                str(values["transmission_sig"]),
            )
            and event == json.loads(sent.raw_body)
        )
        return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}

    def _subscription_event(self, subscription: _Subscription, event_type: str, summary: str) -> EmittedEvent:
        return self._event(event_type, "subscription", "2.0", summary, self._subscription_json(subscription))

    def _sale_event(self, subscription: _Subscription, price: Decimal, currency: str, now: datetime) -> EmittedEvent:
        # Recurring charges arrive as PAYMENT.SALE.COMPLETED; the sale names its subscription in billing_agreement_id.
        # https://developer.paypal.com/docs/subscriptions/reference/webhooks/ (v1 sale: amount{total, currency})
        value = _money(price, currency)["value"]
        sale_id = self._ref("", 17)
        sale: dict[str, Any] = {
            "id": sale_id,
            "state": "completed",
            "amount": {"total": value, "currency": currency, "details": {"subtotal": value}},
            "payment_mode": "INSTANT_TRANSFER",
            "protection_eligibility": "ELIGIBLE",
            "protection_eligibility_type": "ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE",
            "billing_agreement_id": subscription.id,
            "create_time": _iso(now),
            "update_time": _iso(now),
            "links": self._links(f"/v1/payments/sale/{sale_id}"),
        }
        if subscription.custom_id:
            sale["custom_id"] = subscription.custom_id
            sale["custom"] = subscription.custom_id  # [~] v1 sales have historically carried it as "custom"
        summary = f"Payment completed for {value} {currency}"
        return self._event("PAYMENT.SALE.COMPLETED", "sale", "1.0", summary, sale)

    def _event(
        self, event_type: str, resource_type: str, resource_version: str, summary: str, resource: dict[str, Any]
    ) -> EmittedEvent:
        """Build, sign and record one webhook transmission."""
        now = self.clock()
        event_id = f"WH-{self._ref('', 17)}-{self._ref('', 17)}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _iso(now),
            "resource_type": resource_type,
            "resource_version": resource_version,
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                {
                    "href": f"{self.api_base_url}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.api_base_url}/v1/notifications/webhooks-events/{event_id}/resend",
                    "rel": "resend",
                    "method": "POST",
                },
            ],
        }
        raw_body = json.dumps(event, separators=(",", ":")).encode()
        transmission_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        transmission_time = _iso(now)
        message = signing.transmission_message(
            transmission_id=transmission_id,
            transmission_time=transmission_time,
            webhook_id=self.webhook_id,
            raw_body=raw_body,
        )
        headers = {
            "Content-Type": "application/json",
            signing.AUTH_ALGO: signing.SHA256_WITH_RSA,
            signing.CERT_URL: self.cert_url,
            signing.TRANSMISSION_ID: transmission_id,
            signing.TRANSMISSION_SIG: self._identity.sign(message),
            signing.TRANSMISSION_TIME: transmission_time,
        }
        emitted = EmittedEvent(headers=headers, raw_body=raw_body, event=json.loads(raw_body))
        self.events.append(emitted)
        self._transmissions[transmission_id] = emitted
        return emitted

    async def _send(self, emitted: list[EmittedEvent]) -> None:
        # Without a receiver the events are only recorded (tests read ``events``; PayPal would retry later).
        if self.deliver is None:
            return
        for event in emitted:
            await self._deliver_one(event)

    async def _send_now(self, emitted: list[EmittedEvent]) -> None:
        """Deliver before returning, after the deliveries already queued, so receivers see emission order."""
        tail = self._tail
        if tail is not None and not tail.done() and asyncio.current_task() not in self._pending:
            await tail
        await self._send(emitted)

    def _send_later(self, emitted: list[EmittedEvent]) -> None:
        """Queue delivery for after the API answer, like PayPal.

        A receiver that needs locks the API caller still holds (its transaction is waiting for this answer)
        would otherwise deadlock against it.
        """
        if self.deliver is None or not emitted:
            return
        previous = self._tail

        async def run() -> None:
            if previous is not None:
                await previous
            await self._send(emitted)

        task = asyncio.get_running_loop().create_task(run())
        self._tail = task
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver_one(self, emitted: EmittedEvent) -> DeliveryAttempt:
        transmission_id = emitted.headers[signing.TRANSMISSION_ID]
        try:
            if self.deliver is None:
                raise SimulatorError("the simulator has no deliver callback")
            status = await self.deliver(dict(emitted.headers), emitted.raw_body)
        except Exception as exc:  # a crashing receiver is a failed delivery to PayPal, not an API failure
            attempt = DeliveryAttempt(emitted.id, transmission_id, None, f"{type(exc).__name__}: {exc}")
        else:
            attempt = DeliveryAttempt(emitted.id, transmission_id, status)
        self.deliveries.append(attempt)
        return attempt

    # ----------------------------------------------------------------------------------------- helpers

    @property
    def _identity(self) -> signing.SigningIdentity:
        # Made on first use: RSA key generation is the slowest thing here and many runs never sign anything.
        if self._identity_cache is None:
            self._identity_cache = signing.SigningIdentity.generate(
                common_name="messageverificationcerts.sandbox.paypal.com", now=self.clock()
            )
        return self._identity_cache

    def _approval(self, token: str) -> tuple[str, str]:
        found = self._approvals.get(token)
        if found is None:
            raise SimulatorError(f"unknown approval token {token}")
        return found

    def _ref(self, prefix: str, length: int = 17) -> str:
        return prefix + "".join(self._rng.choices(_ALNUM, k=length))

    def _links(self, path: str, *, edit: bool = False) -> list[dict[str, str]]:
        href = f"{self.api_base_url}{path}"
        links = [{"href": href, "rel": "self", "method": "GET"}]
        if edit:
            links.append({"href": href, "rel": "edit", "method": "PATCH"})
        return links

    @staticmethod
    def _page(call: _Call, items: list[Any]) -> list[Any]:
        try:
            size = min(max(int(call.query.get("page_size", "10")), 1), 20)
            page = max(int(call.query.get("page", "1")), 1)
        except ValueError:
            issue = _issue("page_size", "INVALID_PARAMETER_SYNTAX", "Must be an integer.", location="query")
            raise _invalid(issue) from None
        return items[(page - 1) * size : page * size]

"""Async PayPal REST client: cached OAuth2 token, PayPal-Request-Id idempotency, retries with backoff."""

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.wire import (
    PayPalOrder,
    PayPalPlan,
    PayPalProduct,
    PayPalSubscription,
    link_href,
)
from promptsales.domain_core.shared.errors import UpstreamError, ValidationFailed

log = structlog.get_logger(__name__)

T = TypeVar("T")

# https://developer.paypal.com/api/rest/responses/ : 5xx may have created something, so retry with the same
# PayPal-Request-Id; https://developer.paypal.com/api/rest/rate-limiting/ : 429 RATE_LIMIT_REACHED (+ Retry-After).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A token is dropped this long before PayPal says it expires, so no request leaves with a token about to lapse.
TOKEN_EXPIRY_MARGIN_S = 60.0
# https://developer.paypal.com/reference/currency-codes/ : these currencies take no decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
_PUBLIC_TEXT_LIMIT = 300
_DETAIL_KEYS = ("field", "location", "issue", "description")  # "value" is left out: it echoes the request


class PayPalError(UpstreamError):
    """PayPal refused a request, or did not complete it within the retry budget."""

    def __init__(
        self,
        *,
        status: int | None,
        name: str,
        message: str,
        debug_id: str | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        attempts: int = 1,
        exhausted: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        self.status = status
        self.name = name
        self.debug_id = debug_id
        self.details = [dict(detail) for detail in details]
        self.attempts = attempts
        self.exhausted = exhausted
        self.retry_after_s = retry_after_s
        self._summary = self._compose(message)
        super().__init__(self._summary, hint=self._hint())
        self.message = message  # PayPal's own text; the composed, client-safe line is public_message()

    def _compose(self, message: str) -> str:
        head = (
            f"PayPal did not complete the request after {self.attempts} attempt(s)"
            if self.exhausted
            else "PayPal refused the request"
        )
        text = f"{head}: {self.name} — {message}"
        issues = [f"{detail.get('field') or '-'}: {detail['issue']}" for detail in self.details if detail.get("issue")]
        if issues:
            text += f" [{'; '.join(issues)}]"
        if self.debug_id:
            text += f" (debug id {self.debug_id})"
        return text

    def _hint(self) -> str:
        if self.exhausted:
            return "Retry later; repeating the call with the same request id cannot create a duplicate."
        if self.status in (401, 403):
            return "Check the PayPal client id and secret configured for this tenant (and live vs sandbox)."
        if self.status == 404:
            return "Check the PayPal id; it may belong to another PayPal account or environment."
        if self.status == 422:
            return "The object's current state does not allow this; fetch it and check its status."
        return "Correct the request and try again."

    def public_message(self) -> str:
        """The composed line (name, PayPal's message, issues, debug id) and what to do next."""
        return f"{self._summary} {self.hint}" if self.hint else self._summary


class _RetryableResponse(Exception):
    """Carries a retryable HTTP answer through tenacity."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


def _retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when PayPal sent a usable one (it does only sometimes)."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _short(value: Any, fallback: str) -> str:
    text = str(value) if value not in (None, "") else fallback
    return text if len(text) <= _PUBLIC_TEXT_LIMIT else text[: _PUBLIC_TEXT_LIMIT - 1] + "…"


def _segment(value: str, *, field: str) -> str:
    """A path segment, quoted so an id can never reach another endpoint."""
    if not value:
        raise ValidationFailed(f"{field} must not be empty.", field=field)
    return quote(value, safe="")


def money_value(amount: Decimal, currency: str, *, field: str, allow_zero: bool = False) -> str:
    """``amount`` as PayPal's decimal string ("29.00"), refusing values the currency cannot carry."""
    # https://developer.paypal.com/docs/api/orders/v2/#definition-money : {currency_code, value: "decimal string"}
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ValidationFailed("currency must be a three-letter ISO 4217 code such as USD.", field="currency")
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(f"{field} must be a positive amount.", field=field)
    try:
        quantized = amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValidationFailed(f"{field} is too large.", field=field) from None
    if quantized != amount:
        raise ValidationFailed(f"{field} has more than {places} decimal places for {currency}.", field=field)
    return f"{quantized:f}"


class PayPalClient:
    """One PayPal REST application (client id + secret) on one environment (live host or the simulator)."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: SecretStr | str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        backoff_base_s: float = 0.2,
        backoff_max_s: float = 5.0,
        retry_after_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        self._max_attempts = max_attempts
        # Longer waits than this are not slept through inside a call: the caller gets the error and retry_after_s.
        self._retry_after_max_s = retry_after_max_s
        self._backoff = wait_exponential_jitter(initial=backoff_base_s, max=backoff_max_s, jitter=backoff_base_s)
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            transport=transport,
            timeout=timeout_s,
            headers={"Accept": "application/json", "Accept-Language": "en_US"},
        )

    def __repr__(self) -> str:
        return f"PayPalClient(base_url={self._base_url!r}, client_id={self._client_id!r})"

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------ catalog

    async def create_product(
        self, *, name: str, type: str = "SERVICE", description: str | None = None, request_id: str | None = None
    ) -> PayPalProduct:
        """Create a catalog product; plans hang off it."""
        # https://developer.paypal.com/docs/api/catalog-products/v1/#products_create
        # {name, type: PHYSICAL|DIGITAL|SERVICE, description?} → 201 {id: "PROD-…", name, …}
        body: dict[str, Any] = {"name": name, "type": type}
        if description:
            body["description"] = description
        response = await self._call("POST", "/v1/catalogs/products", body=body, request_id=request_id)
        return self._parse(response, PayPalProduct.model_validate)

    # -------------------------------------------------------------------------------------------- plans

    async def create_plan(
        self,
        *,
        product_id: str,
        name: str,
        price: Decimal,
        currency: str = "USD",
        interval_unit: str = "MONTH",
        interval_count: int = 1,
        trial_days: int = 0,
        request_id: str | None = None,
    ) -> PayPalPlan:
        """Create an ACTIVE plan: an optional free trial of ``trial_days`` days, then ``price`` every interval."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_create
        # billing_cycles[] = {frequency{interval_unit, interval_count}, tenure_type: TRIAL|REGULAR, sequence,
        #   total_cycles (0 = infinite for REGULAR), pricing_scheme{fixed_price{currency_code, value}}}
        if trial_days < 0:
            raise ValidationFailed("trial_days must be zero or more.", field="trial_days")
        if interval_count < 1:
            raise ValidationFailed("interval_count must be at least 1.", field="interval_count")
        cycles: list[dict[str, Any]] = []
        if trial_days:
            cycles.append(
                {
                    "frequency": {"interval_unit": "DAY", "interval_count": trial_days},
                    "tenure_type": "TRIAL",
                    "sequence": 1,
                    "total_cycles": 1,
                    "pricing_scheme": {
                        "fixed_price": {
                            "value": money_value(Decimal(0), currency, field="price", allow_zero=True),
                            "currency_code": currency,
                        }
                    },
                }
            )
        cycles.append(
            {
                "frequency": {"interval_unit": interval_unit, "interval_count": interval_count},
                "tenure_type": "REGULAR",
                "sequence": len(cycles) + 1,
                "total_cycles": 0,
                "pricing_scheme": {
                    "fixed_price": {"value": money_value(price, currency, field="price"), "currency_code": currency}
                },
            }
        )
        body = {
            "product_id": product_id,
            "name": name,
            "status": "ACTIVE",
            "billing_cycles": cycles,
            # Unpaid cycles are added to the next bill; three failed payments suspend the subscription.
            "payment_preferences": {"auto_bill_outstanding": True, "payment_failure_threshold": 3},
        }
        response = await self._call("POST", "/v1/billing/plans", body=body, request_id=request_id)
        return self._parse(response, PayPalPlan.model_validate)

    async def get_plan(self, *, plan_id: str) -> PayPalPlan:
        """Show a plan."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#plans_get
        response = await self._call("GET", f"/v1/billing/plans/{_segment(plan_id, field='plan_id')}")
        return self._parse(response, PayPalPlan.model_validate)

    # ------------------------------------------------------------------------------------ subscriptions

    async def create_subscription(
        self,
        *,
        plan_id: str,
        custom_id: str,
        return_url: str,
        cancel_url: str,
        subscriber_email: str | None = None,
        brand_name: str = "PromptSales",
        request_id: str | None = None,
    ) -> PayPalSubscription:
        """Create an APPROVAL_PENDING subscription; send the buyer to its ``approve_url``."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_create
        # {plan_id, custom_id, subscriber{email_address}, application_context{brand_name, user_action, return_url,
        #  cancel_url}} → 201 {id: "I-…", status: APPROVAL_PENDING, links[{rel: approve}]}
        body: dict[str, Any] = {
            "plan_id": plan_id,
            "custom_id": custom_id,
            "application_context": {
                "brand_name": brand_name,
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": return_url,
                "cancel_url": cancel_url,
            },
        }
        if subscriber_email:
            body["subscriber"] = {"email_address": subscriber_email}
        response = await self._call("POST", "/v1/billing/subscriptions", body=body, request_id=request_id)
        return self._parse(response, PayPalSubscription.from_api)

    async def get_subscription(self, *, subscription_id: str) -> PayPalSubscription:
        """Show a subscription (status, next billing time, failed payments, last payment)."""
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_get
        response = await self._call("GET", self._subscription_path(subscription_id))
        return self._parse(response, PayPalSubscription.from_api)

    async def revise_subscription(
        self, *, subscription_id: str, plan_id: str, request_id: str | None = None
    ) -> PayPalSubscription:
        """Ask to move a subscription to ``plan_id``; the buyer confirms at ``approve_url`` before it applies.

        The returned subscription is the current one (still on its old plan) with the revision's approval link.
        """
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_revise
        # {plan_id} → 200 {plan_id, effective_time, links[{rel: approve}]} (the answer is not a subscription)
        response = await self._call(
            "POST",
            f"{self._subscription_path(subscription_id)}/revise",
            body={"plan_id": plan_id},
            request_id=request_id,
        )
        approve_url = self._parse(response, lambda body: link_href(body, "approve"))
        current = await self.get_subscription(subscription_id=subscription_id)
        return current.model_copy(update={"approve_url": approve_url})

    async def cancel_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Cancel an ACTIVE or SUSPENDED subscription for good."""
        await self._lifecycle(subscription_id, "cancel", reason, request_id)

    async def suspend_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Pause billing of an ACTIVE subscription."""
        await self._lifecycle(subscription_id, "suspend", reason, request_id)

    async def activate_subscription(self, *, subscription_id: str, reason: str, request_id: str | None = None) -> None:
        """Resume a SUSPENDED subscription."""
        await self._lifecycle(subscription_id, "activate", reason, request_id)

    async def _lifecycle(self, subscription_id: str, action: str, reason: str, request_id: str | None) -> None:
        # https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_cancel (…_suspend, …_activate)
        # {reason} → 204 No Content
        path = f"{self._subscription_path(subscription_id)}/{action}"
        await self._call("POST", path, body={"reason": reason}, request_id=request_id)

    @staticmethod
    def _subscription_path(subscription_id: str) -> str:
        return f"/v1/billing/subscriptions/{_segment(subscription_id, field='subscription_id')}"

    # ------------------------------------------------------------------------------------------- orders

    async def create_order(
        self,
        *,
        amount: Decimal,
        currency: str,
        custom_id: str,
        description: str,
        return_url: str,
        cancel_url: str,
        brand_name: str = "PromptSales",
        request_id: str | None = None,
    ) -> PayPalOrder:
        """Create a CAPTURE order for one purchase unit; send the buyer to its ``approve_url``."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_create
        # {intent: CAPTURE, purchase_units[{custom_id, description, amount{currency_code, value}}],
        #  payment_source{paypal{experience_context{return_url, cancel_url, …}}}}
        #  → 200/201 {id, status: CREATED|PAYER_ACTION_REQUIRED, links[{rel: approve|payer-action}]}
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": "default",
                    "custom_id": custom_id,
                    "description": description,
                    "amount": {"currency_code": currency, "value": money_value(amount, currency, field="amount")},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "brand_name": brand_name,
                        "shipping_preference": "NO_SHIPPING",
                        "user_action": "PAY_NOW",
                        "return_url": return_url,
                        "cancel_url": cancel_url,
                    }
                }
            },
        }
        response = await self._call("POST", "/v2/checkout/orders", body=body, request_id=request_id)
        return self._parse(response, PayPalOrder.from_api)

    async def get_order(self, *, order_id: str) -> PayPalOrder:
        """Show an order."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_get
        response = await self._call("GET", self._order_path(order_id))
        return self._parse(response, PayPalOrder.from_api)

    async def capture_order(self, *, order_id: str, request_id: str | None = None) -> PayPalOrder:
        """Capture an APPROVED order; check ``captures`` (a COMPLETED order may hold a DECLINED capture)."""
        # https://developer.paypal.com/docs/api/orders/v2/#orders_capture  (JSON body may be empty)
        response = await self._call("POST", f"{self._order_path(order_id)}/capture", body={}, request_id=request_id)
        return self._parse(response, PayPalOrder.from_api)

    @staticmethod
    def _order_path(order_id: str) -> str:
        return f"/v2/checkout/orders/{_segment(order_id, field='order_id')}"

    # ----------------------------------------------------------------------------------------- webhooks

    async def verify_webhook_signature(self, *, headers: Mapping[str, str], raw_body: bytes, webhook_id: str) -> bool:
        """Ask PayPal whether a delivery (its headers + the exact raw body) is genuine for ``webhook_id``."""
        # https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature
        # {auth_algo, cert_url, transmission_id, transmission_sig, transmission_time, webhook_id, webhook_event}
        # → 200 {verification_status: SUCCESS|FAILURE}; a failed check is still HTTP 200.
        lowered = {key.lower(): value for key, value in headers.items()}
        values = {name: lowered.get(name.lower()) for name in signing.SIGNATURE_HEADERS}
        if any(not value for value in values.values()) or not webhook_id:
            return False
        try:
            event = json.loads(raw_body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return False
        if not isinstance(event, dict):
            return False
        body = {
            "auth_algo": values[signing.AUTH_ALGO],
            "cert_url": values[signing.CERT_URL],
            "transmission_id": values[signing.TRANSMISSION_ID],
            "transmission_sig": values[signing.TRANSMISSION_SIG],
            "transmission_time": values[signing.TRANSMISSION_TIME],
            "webhook_id": webhook_id,
            "webhook_event": event,
        }
        response = await self._call("POST", "/v1/notifications/verify-webhook-signature", body=body, prefer=False)
        return self._parse(response, lambda answer: answer.get("verification_status") == "SUCCESS")

    # ------------------------------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        prefer: bool = True,
    ) -> httpx.Response:
        """Send an authorised API request with retries; a non-2xx final answer raises PayPalError."""
        headers: dict[str, str] = {}
        if method == "POST":
            # https://developer.paypal.com/reference/guidelines/idempotency/ : the same id on every retry makes
            # PayPal answer with the first request's result instead of acting twice.
            headers["PayPal-Request-Id"] = request_id or uuid.uuid4().hex
            if prefer:
                headers["Prefer"] = "return=representation"

        async def send() -> httpx.Response:
            return await self._send_authorized(method, path, headers, body)

        response, attempts = await self._with_retries(send)
        if not response.is_success:
            raise self._error(response, attempts=attempts, exhausted=False)
        return response

    async def _send_authorized(
        self, method: str, path: str, headers: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> httpx.Response:
        token = await self._access_token()
        response = await self._http.request(
            method, path, headers={**headers, "Authorization": f"Bearer {token}"}, json=body
        )
        if response.status_code == 401:
            # PayPal may revoke a token before expires_in; fetch a new one and try once more.
            token = await self._access_token(stale=token)
            response = await self._http.request(
                method, path, headers={**headers, "Authorization": f"Bearer {token}"}, json=body
            )
        return response

    async def check_credentials(self) -> None:
        """Prove the client id and secret work (one token request); raises PayPalError otherwise."""
        await self._access_token()

    async def _access_token(self, *, stale: str | None = None) -> str:
        """The cached token, or a new one; concurrent callers share a single refresh."""
        async with self._token_lock:
            token = self._token
            if token is not None and token.value != stale and self._clock() < token.expires_at:
                return token.value
            self._token = None
            self._token = await self._fetch_token()
            return self._token.value

    async def _fetch_token(self) -> _Token:
        # https://developer.paypal.com/api/rest/authentication/ : POST /v1/oauth2/token, HTTP Basic
        # client_id:secret, form grant_type=client_credentials → {access_token, token_type, expires_in, …}
        asked_at = self._clock()
        headers = {"PayPal-Request-Id": uuid.uuid4().hex}

        async def send() -> httpx.Response:
            return await self._http.post(
                "/v1/oauth2/token",
                auth=httpx.BasicAuth(self._client_id, self._secret.get_secret_value()),
                data={"grant_type": "client_credentials"},
                headers=headers,
            )

        response, attempts = await self._with_retries(send)
        if not response.is_success:
            raise self._error(response, attempts=attempts, exhausted=False)
        body = _json_object(response)
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise self._unreadable(response)
        return _Token(value=value, expires_at=asked_at + max(float(expires_in) - TOKEN_EXPIRY_MARGIN_S, 0.0))

    async def _with_retries(self, send: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, int]:
        """Run ``send`` until it gives a non-retryable answer (returned with the attempts it took) or gives up."""
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type((_RetryableResponse, httpx.TransportError)),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await send()
                    if response.status_code in RETRYABLE_STATUSES:
                        raise _RetryableResponse(response)
                    return response, attempt.retry_state.attempt_number
        except _RetryableResponse as exc:
            attempts = int(retrying.statistics.get("attempt_number", self._max_attempts))
            raise self._error(exc.response, attempts=attempts, exhausted=True) from None
        except httpx.TransportError as exc:
            attempts = int(retrying.statistics.get("attempt_number", self._max_attempts))
            raise PayPalError(
                status=None,
                name="UNREACHABLE",
                message=f"no answer from PayPal ({type(exc).__name__})",
                attempts=attempts,
                exhausted=True,
            ) from exc
        raise AssertionError("tenacity ended without an outcome")  # pragma: no cover

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self._max_attempts:
            return True
        retry_after = _outcome_retry_after(state)
        return retry_after is not None and retry_after > self._retry_after_max_s

    def _wait(self, state: RetryCallState) -> float:
        retry_after = _outcome_retry_after(state)
        return retry_after if retry_after is not None else float(self._backoff(state))

    def _error(self, response: httpx.Response, *, attempts: int, exhausted: bool) -> PayPalError:
        """PayPal's error answer ({name, message, debug_id, details[]} or OAuth's {error, error_description})."""
        # https://developer.paypal.com/api/rest/responses/#link-errorresponses
        body = _json_object(response)
        details = [
            {key: self._redact(str(detail[key])) for key in _DETAIL_KEYS if detail.get(key) is not None}
            for detail in body.get("details", [])
            if isinstance(detail, dict)
        ]
        return PayPalError(
            status=response.status_code,
            name=self._redact(_short(body.get("name") or body.get("error"), f"HTTP_{response.status_code}")),
            message=self._redact(
                _short(body.get("message") or body.get("error_description"), response.reason_phrase or "no message")
            ),
            debug_id=_short(body.get("debug_id") or response.headers.get("paypal-debug-id"), "") or None,
            details=details if isinstance(body.get("details"), list) else [],
            attempts=attempts,
            exhausted=exhausted,
            retry_after_s=_retry_after_s(response),
        )

    def _unreadable(self, response: httpx.Response) -> PayPalError:
        return PayPalError(
            status=response.status_code,
            name="UNEXPECTED_RESPONSE",
            message="PayPal's answer did not have the documented shape",
            debug_id=response.headers.get("paypal-debug-id"),
        )

    def _parse(self, response: httpx.Response, read: Callable[[dict[str, Any]], T]) -> T:
        try:
            return read(_json_object(response))
        except ValidationError:
            raise self._unreadable(response) from None

    def _redact(self, text: str) -> str:
        """Mask our secret and token should PayPal ever echo them back."""
        for secret in (self._secret.get_secret_value(), self._token.value if self._token else ""):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text


def _outcome_retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return _retry_after_s(error.response) if isinstance(error, _RetryableResponse) else None


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, _RetryableResponse):
        reason = str(error.response.status_code)
        debug_id = error.response.headers.get("paypal-debug-id")
    else:
        reason, debug_id = type(error).__name__, None
    wait_s = state.next_action.sleep if state.next_action is not None else None
    log.info("paypal.retry", attempt=state.attempt_number, reason=reason, debug_id=debug_id, wait_s=wait_s)

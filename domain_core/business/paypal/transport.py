"""The authorised HTTP layer under PayPalClient: one connection pool, a cached OAuth2 token, idempotent retries."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr, ValidationError

from promptsales.domain_core.business.paypal.errors import (
    PayPalError,
    error_from_response,
    json_object,
    unreadable_response,
)
from promptsales.domain_core.business.paypal.retries import RetryPolicy

T = TypeVar("T")

# A token is dropped this long before PayPal says it expires, so no request leaves with a token about to lapse.
TOKEN_EXPIRY_MARGIN_S = 60.0


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


class PayPalTransport:
    """Sends API requests for one PayPal REST application; the endpoint methods live on PayPalClient."""

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
        self._retries = RetryPolicy(
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            retry_after_max_s=retry_after_max_s,
            sleep=sleep,
        )
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            transport=transport,
            timeout=timeout_s,
            headers={"Accept": "application/json", "Accept-Language": "en_US"},
        )

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

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
        body = json_object(response)
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise unreadable_response(response)
        return _Token(value=value, expires_at=asked_at + max(float(expires_in) - TOKEN_EXPIRY_MARGIN_S, 0.0))

    async def _with_retries(self, send: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, int]:
        """Run ``send`` until it gives a non-retryable answer (returned with the attempts it took) or gives up."""
        return await self._retries.run(
            send, lambda response, attempts, exhausted: self._error(response, attempts=attempts, exhausted=exhausted)
        )

    def _error(self, response: httpx.Response, *, attempts: int, exhausted: bool) -> PayPalError:
        return error_from_response(response, attempts=attempts, exhausted=exhausted, redact=self._redact)

    def _parse(self, response: httpx.Response, read: Callable[[dict[str, Any]], T]) -> T:
        try:
            return read(json_object(response))
        except ValidationError:
            raise unreadable_response(response) from None

    def _redact(self, text: str) -> str:
        """Mask our secret and token should PayPal ever echo them back."""
        for secret in (self._secret.get_secret_value(), self._token.value if self._token else ""):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

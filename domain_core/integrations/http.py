"""The one HTTP request policy every connector uses (httpx.AsyncClient; the transport is injectable).

Per request:

* a per-attempt timeout and a total deadline across attempts and waits; no wait is started that would end
  past the deadline (the caller gets the error, with the platform's wait time, at once);
* the tenant's request budget for the platform (:mod:`.budget`) is spent before every attempt;
* 429, 500/502/503/504, timeouts, connection failures and the platforms' throttling answers (Graph codes
  17/613/80000-80014 at HTTP 400) are retried with exponential backoff and "equal jitter" (attempt n waits
  between d/2 and d, d = min(backoff_max, backoff_base * 2**(n-1))), unless the platform said how long to wait
  (``Retry-After``, Meta ``estimated_time_to_regain_access``, HubSpot's interval window, or — when no header
  says — a wait in the error body, Google's ``retryDelay``): then exactly that;
* GET/HEAD/OPTIONS/PUT/DELETE are idempotent and may be retried. POST and PATCH are retried ONLY when an
  idempotency key goes in the platform's own header (the same key on every attempt), or when the caller
  declares the write idempotent by construction (``idempotent_write=True``: Salesforce upsert by external id,
  HubSpot batch upsert by a unique property). Anything else is sent once: a timeout may have applied it;
* answers become typed errors (:mod:`.model.errors`): 401 (and Graph code 190) → AuthExpired, 403 →
  PermissionMissing, 400/422 → PlatformValidationError naming the platform's field, 429/throttling →
  RateLimited, 5xx/timeouts → PlatformDown. Platforms that answer failures with HTTP 200 and a code in the body
  (TikTok §4) have an ``envelope`` (:data:`ENVELOPES`) that says which HTTP status such a body means; the answer is
  then handled as that status (retried, typed and redacted the same way);
* secrets (auth header values, secret-named query parameters, anything credential-shaped) are redacted from
  every error text and log line; URLs are logged without their query string, exceptions are not chained.

Why not the content context's ``RetryBudget``: it is built around the model providers' ``ProviderError`` and
lives behind the content facade, which another context may not import; the deadline arithmetic is a few lines.
"""

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx
import structlog

from promptsales.domain_core.infrastructure.rate_limit import RateLimited as BudgetExhausted
from promptsales.domain_core.integrations.budget import PlatformBudget
from promptsales.domain_core.integrations.model.connectors import Connector
from promptsales.domain_core.integrations.model.errors import (
    META_THROTTLE_CODES,
    META_TOKEN_CODES,
    SALESFORCE_LIMIT_CODE,
    AuthExpired,
    ConnectorError,
    ErrorBody,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
    platform_text,
    redact,
    tiktok_status,
)
from promptsales.domain_core.integrations.model.rate_headers import (
    MAX_BELIEVABLE_WAIT_S,
    RateSignal,
    read_rate_signal,
)

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
AuthHeaders = Callable[[], Awaitable[Mapping[str, str]]]
# The HTTP status a 2xx answer's parsed JSON body really means (None: a success) — TikTok's {code, message} envelope.
Envelope = Callable[[object], int | None]
# Platforms whose failures arrive in 2xx answers, by connector id (every ConnectorHttp for them reads the body).
ENVELOPES: Mapping[str, Envelope] = {"tiktok_ads": tiktok_status}
# Multipart files: field name → (file name, bytes, content type).
Files = Mapping[str, tuple[str, bytes, str]]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_PARAM_NAMES = frozenset(
    {
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "key",
        "token",
        "secret",
        "client_secret",
        "appsecret_proof",
        "password",
        "code",
        "code_verifier",
    }
)
# Budget waits inside one attempt: after this many the attempt gives up (the limiter's clock may not move).
_BUDGET_TRIES = 3


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """Timeouts and retry settings of one connector's requests."""

    attempt_timeout_s: float = 10.0
    deadline_s: float = 30.0
    max_attempts: int = 4
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("attempt_timeout_s", "deadline_s", "backoff_base_s", "backoff_max_s"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive finite number")

    def backoff(self, attempt: int, jitter: float) -> float:
        """The wait after failed attempt ``attempt`` (1-based) when the platform gave no wait time."""
        nominal = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return nominal / 2 + nominal / 2 * min(max(jitter, 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class _Retryable:
    """A failed attempt that may be retried: the error to raise if it is not, and the wait if it is."""

    error: ConnectorError
    wait_hint: float | None


class ConnectorHttp:
    """Sends one tenant's requests to one platform under :class:`RequestPolicy`."""

    def __init__(
        self,
        connector: Connector,
        *,
        base_url: str,
        tenant_id: str,
        auth: AuthHeaders | None = None,
        budget: PlatformBudget | None = None,
        policy: RequestPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        secrets: Iterable[str] = (),
        envelope: Envelope | None = None,
    ) -> None:
        self.connector = connector
        self._envelope = envelope if envelope is not None else ENVELOPES.get(connector.id)
        self._tenant_id = tenant_id
        self._auth = auth
        self._budget = budget
        self.policy = policy or RequestPolicy()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._now = now
        self._secrets: set[str] = {s for s in secrets if s}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=self.policy.attempt_timeout_s,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    @property
    def platform(self) -> str:
        """The platform's display name, as errors show it."""
        return self.connector.display_name

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: Files | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotent_write: bool = False,
    ) -> httpx.Response:
        """Send ``method path`` under the policy; a 2xx/3xx answer is returned, anything else raised typed.

        The body is one of ``json_body``, ``form`` or raw ``content`` bytes (the caller sets their Content-Type), or
        a multipart/form-data body of ``files`` with ``form`` as its other fields (TikTok's image upload, §4).
        ``idempotency_key`` goes in the platform's idempotency header (ValueError if it takes none).
        """
        if sum(body is not None for body in (json_body, form, content)) > 1:
            raise ValueError("send one body: json_body, form or content")
        if files is not None and (json_body is not None or content is not None):
            raise ValueError("files go with form fields only")
        method = method.upper()
        send_headers = dict(headers or {})
        if idempotency_key is not None:
            if self.connector.idempotency_header is None:
                raise ValueError(f"{self.connector.id} accepts no idempotency key; make the write idempotent instead")
            if not 0 < len(idempotency_key) <= 255:
                raise ValueError("an idempotency key is 1-255 characters")
            send_headers[self.connector.idempotency_header] = idempotency_key
        may_retry = method in IDEMPOTENT_METHODS or idempotent_write or idempotency_key is not None
        for name, value in (params or {}).items():
            if name.lower() in SECRET_PARAM_NAMES:
                self._secrets.add(value)
        safe_path = redact(path.split("?", 1)[0], self._secrets)
        deadline = self._clock() + self.policy.deadline_s
        attempt = 0
        while True:
            attempt += 1
            await self._spend_budget(deadline, attempt)
            remaining = deadline - self._clock()
            if remaining <= 0:
                # Only retryable requests get here after a first attempt, so nothing unsafe may have been applied.
                raise PlatformDown(platform=self.platform, attempts=attempt - 1, deadline_hit=True)
            outcome = await self._attempt(
                method,
                path,
                params,
                json_body,
                form,
                content,
                files,
                send_headers,
                min(self.policy.attempt_timeout_s, remaining),
                attempt,
                may_retry,
            )
            if isinstance(outcome, httpx.Response):
                return outcome
            wait = outcome.wait_hint
            if wait is None:
                wait = self.policy.backoff(attempt, self._jitter())
            if not may_retry or attempt >= self.policy.max_attempts or self._clock() + wait >= deadline:
                raise outcome.error
            log.info(
                "integrations.http.retry",
                platform=self.connector.id,
                method=method,
                path=safe_path,
                status=outcome.error.status,
                error=outcome.error.code,
                attempt=attempt,
                wait_s=round(wait, 3),
            )
            await self._sleep(wait)

    async def _spend_budget(self, deadline: float, attempt: int) -> None:
        if self._budget is None:
            return
        for _ in range(_BUDGET_TRIES):
            try:
                await self._budget.acquire(tenant_id=self._tenant_id, platform=self.connector.id)
                return
            except BudgetExhausted as exc:
                wait = exc.retry_after_seconds
                if self._clock() + wait >= deadline:
                    raise RateLimited(
                        platform=self.platform, retry_after_seconds=wait, status=None, attempts=attempt - 1, budget=True
                    ) from None
                await self._sleep(wait)
        raise RateLimited(
            platform=self.platform, retry_after_seconds=None, status=None, attempts=attempt - 1, budget=True
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        content: bytes | None,
        files: Files | None,
        headers: dict[str, str],
        timeout_s: float,
        attempt: int,
        may_retry: bool,
    ) -> httpx.Response | _Retryable:
        all_headers = dict(headers)
        if self._auth is not None:
            auth_headers = await self._auth()
            self._secrets.update(value for value in auth_headers.values() if value)
            # A bare "Bearer xyz" is caught by pattern too, but the token alone may be echoed by a platform.
            self._secrets.update(value.split(" ", 1)[1] for value in auth_headers.values() if " " in value)
            all_headers.update(auth_headers)
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._http.request(
                    method,
                    path,
                    params=params,
                    json=json_body,
                    data=form,
                    content=content,
                    files=files,
                    headers=all_headers,
                    timeout=timeout_s,
                )
                await response.aread()
        except (TimeoutError, httpx.TimeoutException):
            return _Retryable(
                PlatformDown(
                    platform=self.platform, attempts=attempt, deadline_hit=True, may_have_applied=not may_retry
                ),
                None,
            )
        except httpx.TransportError as exc:
            return _Retryable(
                PlatformDown(
                    platform=self.platform,
                    detail=type(exc).__name__,
                    attempts=attempt,
                    may_have_applied=not may_retry and not isinstance(exc, httpx.ConnectError),
                ),
                None,
            )
        if response.status_code >= 400:
            return self._classify(response, response.status_code, attempt, may_retry)
        meant = self._envelope(_json_or_none(response)) if self._envelope is not None else None
        if meant is None or meant < 400:
            return response
        return self._classify(response, meant, attempt, may_retry)

    def _classify(self, response: httpx.Response, status: int, attempt: int, may_retry: bool) -> _Retryable:
        """The typed error of a 4xx/5xx answer (``status``: the HTTP one, or what an envelope means), carrying the
        platform's own error code; retryable ones come back, the others are raised here."""
        body = ErrorBody.read(_json_or_none(response))
        try:
            outcome = self._typed(response, status, body, attempt, may_retry)
        except ConnectorError as error:
            error.platform_code = body.code
            raise
        outcome.error.platform_code = body.code
        return outcome

    def _typed(
        self, response: httpx.Response, status: int, body: ErrorBody, attempt: int, may_retry: bool
    ) -> _Retryable:
        detail = platform_text(body.message or (response.text if _plain_text(response) else None), self._secrets)
        signal = read_rate_signal(response.headers, now=self._now)
        if signal.wait_seconds is None and body.retry_after is not None and body.retry_after <= MAX_BELIEVABLE_WAIT_S:
            signal = RateSignal(wait_seconds=body.retry_after, sources=("body",))
        code = body.numeric_code
        if status == 429 or (status == 400 and code in META_THROTTLE_CODES):
            return _Retryable(self._rate_limited(signal, status, detail, attempt), signal.wait_seconds)
        if status in RETRYABLE_STATUSES:
            # A 5xx to a request that is not retried does not say it was not applied (a gateway may time out
            # after the platform acted).
            return _Retryable(
                PlatformDown(
                    platform=self.platform,
                    status=status,
                    detail=detail,
                    attempts=attempt,
                    may_have_applied=not may_retry,
                ),
                signal.wait_seconds,
            )
        if status == 401 or code in META_TOKEN_CODES:
            raise AuthExpired(platform=self.platform, status=status, detail=detail, attempts=attempt)
        if status == 403:
            if body.code == SALESFORCE_LIMIT_CODE:
                raise self._rate_limited(signal, status, detail, attempt)
            raise PermissionMissing(platform=self.platform, status=status, detail=detail, attempts=attempt)
        if status in (400, 422):
            raise PlatformValidationError(
                platform=self.platform, platform_field=body.field, status=status, detail=detail, attempts=attempt
            )
        if status == 404:
            summary = "the platform has no such object (it may have been deleted there)"
            raise ConnectorError(
                platform=self.platform,
                summary=summary,
                status=status,
                detail=detail,
                attempts=attempt,
                hint="Re-sync to refresh the stored ids, then try again.",
            )
        raise ConnectorError(
            platform=self.platform,
            summary=f"the platform refused the request (HTTP {status})",
            status=status,
            detail=detail,
            attempts=attempt,
        )

    def _rate_limited(self, signal: RateSignal, status: int, detail: str | None, attempt: int) -> RateLimited:
        return RateLimited(
            platform=self.platform,
            retry_after_seconds=signal.wait_seconds,
            status=status,
            detail=detail,
            attempts=attempt,
        )


def _plain_text(response: httpx.Response) -> bool:
    # Some 429s carry a plain-text body (Zendesk §11); HTML error pages (Mailchimp's 503) are not shown.
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/plain")


def _json_or_none(response: httpx.Response) -> object:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None

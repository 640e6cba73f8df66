"""The one retry policy for every model provider (the SDKs' own retries are off: ``max_retries=0``).

Only :class:`ProviderError` instances with ``retryable`` set are retried: rate limits, overload, 5xx,
connection failures and timeouts. A wait the provider asked for (``retry_after_s``, read from ``Retry-After``
and kin by :func:`retry_after_from_headers`) is honoured as given; one longer than ``max_retry_after_s`` is not
slept through: the error is raised at once with ``retry_after_s`` set, so the caller can defer the work.
Without a hint the wait is exponential with "equal jitter": attempt n waits between d/2 and d, where
d = min(max_delay_s, base_delay_s * 2**(n-1)). ``jitter`` (a [0, 1) source) makes it deterministic in tests.

A :class:`RetryBudget` with ``total_timeout_s`` also bounds the whole call, attempts and waits together: a
provider that hangs costs at most that long (not timeout x attempts), and the error says the deadline was hit.
"""

import asyncio
import email.utils
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from promptsales.domain_core.content.providers.base import ProviderError, ProviderTimeout

log = structlog.get_logger(__name__)

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]

# OpenAI's x-ratelimit-reset-* values are Go-style durations: "6m0s", "1.5s", "20ms", "1h2m3s".
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_RESET_HEADERS = (
    ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
)


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """A provider's retry settings, applied with :func:`with_retries` to each call it makes.

    ``total_timeout_s`` (None: unbounded) is the deadline of one call across all its attempts and waits.
    """

    max_attempts: int = 3
    max_retry_after_s: float = 30.0
    sleep: Sleep = asyncio.sleep
    total_timeout_s: float | None = None
    provider: str = "The model provider"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.total_timeout_s is not None and self.total_timeout_s <= 0:
            raise ValueError("total_timeout_s must be positive")

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Await ``call()`` under this budget."""
        if self.total_timeout_s is None:
            return await with_retries(
                call, max_attempts=self.max_attempts, max_retry_after_s=self.max_retry_after_s, sleep=self.sleep
            )
        started = 0

        async def counted() -> T:
            nonlocal started
            started += 1
            return await call()

        deadline = time.monotonic() + self.total_timeout_s
        try:
            async with asyncio.timeout(self.total_timeout_s):
                return await with_retries(
                    counted,
                    max_attempts=self.max_attempts,
                    max_retry_after_s=self.max_retry_after_s,
                    sleep=self.sleep,
                    deadline=deadline,
                )
        except TimeoutError:
            raise deadline_error(self.provider, self.total_timeout_s, started) from None


def deadline_error(provider: str, total_timeout_s: float, attempts: int) -> ProviderTimeout:
    """The whole call ran out of time (attempts and waits together)."""
    error = ProviderTimeout(
        f"{provider} did not finish within this call's {total_timeout_s:g} s deadline; the request was abandoned.",
        provider=provider,
        hint="The provider is slow or not answering: retry later, or choose another model with "
        "content_set_ai_provider.",
    )
    error.attempts = max(attempts, 1)
    return error


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_attempts: int = 3,
    base_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    max_retry_after_s: float = 30.0,
    sleep: Sleep = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
    deadline: float | None = None,
) -> T:
    """Await ``call()`` until it succeeds, raises a non-retryable error, or the budget is spent.

    The error that ends the loop is re-raised with ``attempts`` set to the number of calls made. With a
    ``deadline`` (``time.monotonic()``), a wait the provider asks for that would end past it is not started.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= max_attempts:
            return True
        hint = _retry_after(state)
        if hint is None:
            return False
        return hint > max_retry_after_s or (deadline is not None and time.monotonic() + hint >= deadline)

    def wait(state: RetryCallState) -> float:
        hint = _retry_after(state)
        if hint is not None:
            return max(hint, 0.0)
        nominal = min(max_delay_s, base_delay_s * 2.0 ** (state.attempt_number - 1))
        return nominal / 2 + nominal / 2 * min(max(jitter(), 0.0), 1.0)

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    attempts = 0
    try:
        async for attempt in retrying:
            with attempt:
                attempts += 1
                return await call()
    except ProviderError as exc:
        exc.attempts = attempts
        raise
    raise AssertionError("tenacity ended without an outcome")  # pragma: no cover


def retry_after_from_headers(
    headers: Mapping[str, str] | None,
    *,
    rate_limit_resets: bool = False,
    now: Callable[[], float] = time.time,
) -> float | None:
    """Seconds the provider asked us to wait, or None.

    Read in order: ``retry-after-ms``; ``retry-after`` (delta seconds, or an HTTP-date); and, when
    ``rate_limit_resets`` (an OpenAI 429), the ``x-ratelimit-reset-requests|tokens`` duration of the limit
    that is used up (remaining 0), or the longer of the two when no remaining counts were sent.
    ``headers`` must look names up case-insensitively (httpx's ``Headers`` do).
    """
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        value = _finite_float(raw_ms)
        if value is not None:
            return max(value / 1000.0, 0.0)
    raw = headers.get("retry-after")
    if raw is not None:
        value = _finite_float(raw)
        if value is not None:
            return max(value, 0.0)
        moment = _http_date(raw)
        if moment is not None:
            return max(moment - now(), 0.0)
    if not rate_limit_resets:
        return None
    exhausted: list[float] = []
    every: list[float] = []
    for remaining_name, reset_name in _RESET_HEADERS:
        reset_raw = headers.get(reset_name)
        reset = parse_duration(reset_raw) if reset_raw is not None else None
        if reset is None:
            continue
        every.append(reset)
        if (headers.get(remaining_name) or "").strip() == "0":
            exhausted.append(reset)
    if exhausted:
        return max(exhausted)
    has_remaining = any(headers.get(name) is not None for name, _ in _RESET_HEADERS)
    return max(every) if every and not has_remaining else None


def parse_duration(text: str) -> float | None:
    """A Go-style duration ("6m0s", "20ms", "1.5s", "1h2m") in seconds, or None when it is not one."""
    text = text.strip()
    if not text:
        return None
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        return None
    return total


def _finite_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _http_date(text: str) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return error.retry_after_s if isinstance(error, ProviderError) else None


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    if not isinstance(error, ProviderError):  # pragma: no cover - only retryable ProviderErrors get here
        return
    log.warning(
        "llm_provider_retry",
        provider=error.provider,
        error=error.code,
        status=error.status,
        provider_code=error.error_code or error.error_type,
        attempt=state.attempt_number,
        wait_s=round(state.upcoming_sleep, 3),
    )

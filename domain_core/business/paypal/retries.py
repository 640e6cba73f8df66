"""The retry loop: retryable HTTP statuses and transport errors, exponential backoff, honouring Retry-After."""

from collections.abc import Awaitable, Callable

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from promptsales.domain_core.business.paypal.errors import PayPalError, retry_after_s

log = structlog.get_logger(__name__)

# https://developer.paypal.com/api/rest/responses/ : 5xx may have created something, so retry with the same
# PayPal-Request-Id; https://developer.paypal.com/api/rest/rate-limiting/ : 429 RATE_LIMIT_REACHED (+ Retry-After).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

ErrorFactory = Callable[[httpx.Response, int, bool], PayPalError]  # (response, attempts, exhausted)


class _RetryableResponse(Exception):
    """Carries a retryable HTTP answer through tenacity."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class RetryPolicy:
    """How often and how long to retry a PayPal request."""

    def __init__(
        self,
        *,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        retry_after_max_s: float,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._max_attempts = max_attempts
        # Longer waits than this are not slept through inside a call: the caller gets the error and retry_after_s.
        self._retry_after_max_s = retry_after_max_s
        self._backoff = wait_exponential_jitter(initial=backoff_base_s, max=backoff_max_s, jitter=backoff_base_s)
        self._sleep = sleep

    async def run(
        self, send: Callable[[], Awaitable[httpx.Response]], error: ErrorFactory
    ) -> tuple[httpx.Response, int]:
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
            raise error(exc.response, attempts, True) from None
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


def _outcome_retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return retry_after_s(error.response) if isinstance(error, _RetryableResponse) else None


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, _RetryableResponse):
        reason = str(error.response.status_code)
        debug_id = error.response.headers.get("paypal-debug-id")
    else:
        reason, debug_id = type(error).__name__, None
    wait_s = state.next_action.sleep if state.next_action is not None else None
    log.info("paypal.retry", attempt=state.attempt_number, reason=reason, debug_id=debug_id, wait_s=wait_s)

"""PayPalError, and reading PayPal's error answers ({name, message, debug_id, details[]} or OAuth's) into it."""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from promptsales.domain_core.shared.errors import UpstreamError

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


def retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when PayPal sent a usable one (it does only sometimes)."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; ``{}`` when it is not one."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _short(value: Any, fallback: str) -> str:
    text = str(value) if value not in (None, "") else fallback
    return text if len(text) <= _PUBLIC_TEXT_LIMIT else text[: _PUBLIC_TEXT_LIMIT - 1] + "…"


def error_from_response(
    response: httpx.Response, *, attempts: int, exhausted: bool, redact: Callable[[str], str]
) -> PayPalError:
    """PayPal's error answer ({name, message, debug_id, details[]} or OAuth's {error, error_description})."""
    # https://developer.paypal.com/api/rest/responses/#link-errorresponses
    body = json_object(response)
    details = [
        {key: redact(str(detail[key])) for key in _DETAIL_KEYS if detail.get(key) is not None}
        for detail in body.get("details", [])
        if isinstance(detail, dict)
    ]
    return PayPalError(
        status=response.status_code,
        name=redact(_short(body.get("name") or body.get("error"), f"HTTP_{response.status_code}")),
        message=redact(
            _short(body.get("message") or body.get("error_description"), response.reason_phrase or "no message")
        ),
        debug_id=_short(body.get("debug_id") or response.headers.get("paypal-debug-id"), "") or None,
        details=details if isinstance(body.get("details"), list) else [],
        attempts=attempts,
        exhausted=exhausted,
        retry_after_s=retry_after_s(response),
    )


def unreadable_response(response: httpx.Response) -> PayPalError:
    """A 2xx answer that did not have the documented shape."""
    return PayPalError(
        status=response.status_code,
        name="UNEXPECTED_RESPONSE",
        message="PayPal's answer did not have the documented shape",
        debug_id=response.headers.get("paypal-debug-id"),
    )

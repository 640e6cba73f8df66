"""Typed connector errors (pure): what went wrong on which platform and what to do, never a secret.

Every error is an :class:`~promptsales.domain_core.shared.errors.UpstreamError` (so the one place that turns
domain errors into MCP tool errors handles them), with a more precise ``code`` per failure kind. Text taken
from a platform's answer goes through :func:`redact` and is cut short before it reaches a message.
"""

import json
import math
import re
from collections.abc import Iterable
from typing import ClassVar

from promptsales.domain_core.shared.errors import UpstreamError

PLATFORM_TEXT_LIMIT = 200
REDACTED = "[redacted]"

# Things that look like credentials wherever they appear in text: bearer/basic values, key=value pairs with a
# secret-sounding name (query strings, form bodies, JSON echoes), and well-known token prefixes.
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "Bearer <token>"; "Basic/OAuth <credential>" only when it looks encoded ("Basic plan" is prose).
    re.compile(
        r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}"
        r"|\b(basic|oauth)\s+(?=[A-Za-z0-9._~+/=-]*[0-9+/=])[A-Za-z0-9._~+/=-]{12,}"
    ),
    # name=value / "name": "value" pairs; an OAuth authorization ``code`` only in query form (``code=``), so a
    # platform's "error code: 40002" stays readable.
    re.compile(
        r"(?i)\b(access_token|refresh_token|id_token|token|api_key|apikey|key|client_secret|secret|password"
        r"|appsecret_proof|code_verifier|developer-token|x-api-key|access-token|(?<![\w-])code(?==))"
        r"(\"?\s*[:=]\s*\"?)([^\s&\"',;}]+)"
    ),
    re.compile(r"\b(pat-[a-z0-9]{2,4}-[A-Za-z0-9-]{8,}|EAA[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,})"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and anything credential-shaped replaced by ``[redacted]``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1) or m.group(2)} {REDACTED}", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _SECRET_PATTERNS[2].sub(REDACTED, text)


def platform_text(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """A platform's own error text made safe to show: redacted, one line, at most 200 characters."""
    if not text:
        return None
    flat = " ".join(redact(text, secrets).split())
    if len(flat) > PLATFORM_TEXT_LIMIT:
        flat = flat[: PLATFORM_TEXT_LIMIT - 1].rstrip() + "…"
    return flat or None


class ConnectorError(UpstreamError):
    """A platform refused or failed a request (base of the precise kinds below)."""

    code: ClassVar[str] = "connector_error"
    default_hint: ClassVar[str] = "Correct the request and try again."

    def __init__(
        self,
        *,
        platform: str,
        summary: str,
        status: int | None = None,
        detail: str | None = None,
        field: str | None = None,
        hint: str | None = None,
        attempts: int = 1,
    ) -> None:
        message = f"{platform}: {summary}"
        if detail:
            message += f" ({platform} said: {detail})"
        super().__init__(message, field=field, hint=hint or self.default_hint)
        self.platform = platform
        self.status = status
        self.detail = detail
        self.attempts = attempts
        # The platform's own error code from the answer's body (Graph "131047", Zendesk "RecordInvalid"), set by
        # ConnectorHttp, so a connector can refine the kind without parsing text; never shown to callers.
        self.platform_code: str | None = None


class AuthExpired(ConnectorError):
    """The stored token or key is no longer accepted (expired, revoked or wrong)."""

    code = "connector_auth_expired"
    default_hint = "Reconnect the platform (integrations connect) to authorise PromptSales again."

    def __init__(
        self, *, platform: str, status: int | None = 401, detail: str | None = None, attempts: int = 1
    ) -> None:
        super().__init__(
            platform=platform,
            summary="the connection's credentials are expired or were revoked",
            status=status,
            detail=detail,
            attempts=attempts,
        )


class PermissionMissing(ConnectorError):
    """The credentials are valid but lack a scope, role or account access the request needs."""

    code = "connector_permission_missing"
    default_hint = (
        "Grant the missing permission (scope, ad-account role or app access) on the platform, then reconnect."
    )

    def __init__(
        self, *, platform: str, status: int | None = 403, detail: str | None = None, attempts: int = 1
    ) -> None:
        super().__init__(
            platform=platform,
            summary="the connected account lacks the permission this action needs",
            status=status,
            detail=detail,
            attempts=attempts,
        )


class RateLimited(ConnectorError):
    """The platform (or this tenant's own request budget for it) asks to wait ``retry_after_seconds``."""

    code = "connector_rate_limited"

    def __init__(
        self,
        *,
        platform: str,
        retry_after_seconds: float | None,
        status: int | None = 429,
        detail: str | None = None,
        attempts: int = 1,
        budget: bool = False,
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        if retry_after_seconds is not None and math.isfinite(retry_after_seconds):
            # Rounded up: a caller that waits exactly the advertised time must not be refused again.
            shown = max(math.ceil(retry_after_seconds), 1)
            hint = f"Retry in {shown} s; spread bulk work over time."
        else:
            hint = "Retry later (the platform gave no wait time); spread bulk work over time."
        summary = (
            "this tenant's request budget for the platform is used up"
            if budget
            else "the platform's rate limit was reached"
        )
        super().__init__(platform=platform, summary=summary, status=status, detail=detail, hint=hint, attempts=attempts)


class PlatformValidationError(ConnectorError):
    """The platform rejected the request's content; ``platform_field`` names its field when it said which."""

    code = "connector_validation_failed"

    def __init__(
        self,
        *,
        platform: str,
        platform_field: str | None,
        status: int | None = 400,
        detail: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.platform_field = platform_field
        summary = (
            f"the platform rejected the value of its field '{platform_field}'"
            if platform_field
            else "the platform rejected the request's content"
        )
        super().__init__(
            platform=platform,
            summary=summary,
            status=status,
            detail=detail,
            field=platform_field,
            hint="Correct that value (see the platform's message) and try again; nothing was changed.",
            attempts=attempts,
        )


class PlatformDown(ConnectorError):
    """The platform did not answer usefully (5xx, timeout, connection failure) within the request's budget."""

    code = "connector_platform_down"

    def __init__(
        self,
        *,
        platform: str,
        status: int | None = None,
        detail: str | None = None,
        attempts: int = 1,
        deadline_hit: bool = False,
        may_have_applied: bool = False,
    ) -> None:
        if status is not None:
            summary = f"the platform failed with HTTP {status} after {attempts} attempt(s)"
        elif deadline_hit:
            summary = f"no answer within this request's deadline ({attempts} attempt(s))"
        else:
            summary = f"the platform could not be reached ({attempts} attempt(s))"
        hint = "Retry later; the platform is failing or slow."
        if may_have_applied:
            hint += " The change may have been applied: check the platform before sending it again."
        super().__init__(platform=platform, summary=summary, status=status, detail=detail, hint=hint, attempts=attempts)
        self.deadline_hit = deadline_hit
        self.may_have_applied = may_have_applied


# Meta / WhatsApp Graph error codes (platform_apis.md §3, §7): throttling 4/17/32/613 and the Business Use Case
# range 80000-80014 [~]; 190 = access token expired or revoked.
META_THROTTLE_CODES: frozenset[int] = frozenset({4, 17, 32, 613, *range(80000, 80015)})
META_TOKEN_CODES: frozenset[int] = frozenset({190})
# Salesforce §10: the org's daily API allowance is used up (HTTP 403) [~].
SALESFORCE_LIMIT_CODE = "REQUEST_LIMIT_EXCEEDED"
# TikTok §4: answers are HTTP 200 with ``{code, message, request_id, data}``; ``code`` 0 is success. The HTTP status
# each failure code means [~ §4 names 40100 (QPS), 40001/40002 (parameters), 40104/40105 (token); 40003 not found,
# 40004 permission, 50000/50002 system busy are from secondary material]. Other 4xxxx codes read as 400, 5xxxx as 503.
TIKTOK_CODE_STATUS: dict[int, int] = {
    40100: 429,
    40104: 401,
    40105: 401,
    40001: 400,
    40002: 400,
    40003: 404,
    40004: 403,
    50000: 503,
    50002: 503,
}


def tiktok_status(body: object) -> int | None:
    """The HTTP status a TikTok envelope means: None for ``code`` 0 (or a body that is no envelope)."""
    code = body.get("code") if isinstance(body, dict) else None
    if isinstance(code, bool) or not isinstance(code, int) or code == 0:
        return None
    return TIKTOK_CODE_STATUS.get(code, 503 if code >= 50000 else 400)


class ErrorBody:
    """What a platform's error body says: its message, the field it blames and its own error code.

    Reads the shapes in platform_apis.md: Salesforce ``[{message, errorCode, fields}]`` (§10), HubSpot
    ``{message, category, errors:[{message, code, in}]}`` (§9), Zendesk ``{error, description, details:{field:[…]}}``
    (§11), Mailchimp problem+json ``{title, detail, errors:[{field, message}]}`` (§6), Graph
    ``{error:{message, code, error_subcode, error_user_msg}}`` (§3, §7), Google RPC ``{error:{message, status,
    details:[{errors:[{message, location:{fieldPathElements:[{fieldName}]}}]}]}}`` (§2), TikTok / Canva
    ``{code, message}`` (§4, §12), Adobe ``{error_code, message}`` (§13), PayPal-style ``details:[{field, issue}]``.

    ``retry_after``: a wait the body itself asks for (seconds), for platforms that put it there instead of a header:
    Google's ``QuotaErrorDetails.retryDelay`` inside a GoogleAdsFailure, or a ``google.rpc.RetryInfo`` detail (§2
    "Rate limits": the back-off travels in the body). Graph names the failing field in
    ``error.error_data.blame_field_specs`` (``[["daily_budget"]]``; Meta's Business SDKs read it there [~]).
    """

    __slots__ = ("code", "field", "message", "retry_after")

    def __init__(
        self,
        message: str | None = None,
        field: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.code = code
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"ErrorBody(message={self.message!r}, field={self.field!r}, code={self.code!r}, "
            f"retry_after={self.retry_after!r})"
        )

    @property
    def numeric_code(self) -> int | None:
        """The platform's error code when it is a number (Graph API codes)."""
        return int(self.code) if self.code is not None and self.code.isdigit() else None

    @classmethod
    def read(cls, body: object) -> "ErrorBody":
        """Best effort over any JSON value; unknown shapes give an empty ErrorBody, never an exception."""
        if isinstance(body, list):
            first = body[0] if body and isinstance(body[0], dict) else None
            if first is None:
                return cls()
            fields = first.get("fields")
            return cls(
                _text(first.get("message")),
                _text(fields[0]) if isinstance(fields, list) and fields else None,
                _text(first.get("errorCode")),
            )
        if not isinstance(body, dict):
            return cls()
        inner = body.get("error")
        if isinstance(inner, dict):
            return cls(
                _text(inner.get("error_user_msg")) or _text(inner.get("message")),
                _google_field(inner.get("details")) or _blamed_field(inner.get("error_data")),
                _text(inner.get("code")) or _text(inner.get("status")),
                _google_retry_delay(inner.get("details")),
            )
        message = _text(body.get("detail")) or _text(body.get("description")) or _text(body.get("message"))
        # OAuth token endpoints (RFC 6749 §5.2: Adobe IMS §13, Canva's /v1/oauth/token §12) explain in
        # error_description; Firefly's 422 (§13 [spec]) lists FastAPI-style validation_errors:[{loc, msg}].
        loc_field, loc_message = _loc_error(body.get("validation_errors"))
        message = message or _text(body.get("title")) or _text(body.get("error_description")) or loc_message
        # A bare string "error" is a code ("RecordInvalid") unless it is a sentence and nothing else explains:
        # Zendesk's 401 is {"error": "Couldn't authenticate you"}.
        sentence = _text(inner) if message is None and isinstance(inner, str) and " " in inner.strip() else None
        message = message or sentence
        code = _text(body.get("errorType")) or _text(body.get("category")) or _text(body.get("error_code"))
        code = code or (None if sentence else _text(inner)) or _text(body.get("code"))
        field = _list_field(body.get("errors")) or _details_field(body.get("details")) or loc_field
        return cls(message, field, code)


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _loc_error(errors: object) -> tuple[str | None, str | None]:
    """The field (last ``loc`` part) and ``msg`` of the first FastAPI-style validation error."""
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
    if first is None:
        return None, None
    loc = first.get("loc")
    field = _text(loc[-1]) if isinstance(loc, list) and loc and isinstance(loc[-1], str) else None
    return field, _text(first.get("msg"))


def _list_field(errors: object) -> str | None:
    if not isinstance(errors, list):
        return None
    for item in errors:
        if isinstance(item, dict):
            found = _text(item.get("field")) or _text(item.get("in"))
            if found:
                return found
    return None


def _details_field(details: object) -> str | None:
    if isinstance(details, dict):  # Zendesk: {field: [{description}]}
        for name in details:
            if isinstance(name, str) and name:
                return name
    return _list_field(details)  # PayPal-style: [{field, issue}]


def _google_field(details: object) -> str | None:
    if not isinstance(details, list):
        return None
    for detail in details:
        errors = detail.get("errors") if isinstance(detail, dict) else None
        for error in errors if isinstance(errors, list) else []:
            location = error.get("location") if isinstance(error, dict) else None
            elements = location.get("fieldPathElements") if isinstance(location, dict) else None
            names = [
                e["fieldName"] for e in elements or [] if isinstance(e, dict) and isinstance(e.get("fieldName"), str)
            ]
            if names:
                return ".".join(names)
    return None


def _blamed_field(error_data: object) -> str | None:
    """Graph's ``error_data.blame_field_specs`` (a list of field paths; ``error_data`` may arrive JSON-encoded)."""
    if isinstance(error_data, str):
        try:
            error_data = json.loads(error_data)
        except (ValueError, RecursionError):
            return None
    specs = error_data.get("blame_field_specs") if isinstance(error_data, dict) else None
    for spec in specs if isinstance(specs, list) else []:
        parts = spec if isinstance(spec, list) else [spec]
        names = [part for part in parts if isinstance(part, str) and part]
        if names:
            return ".".join(names)
    return None


_DURATION = re.compile(r"^\s*(\d{1,9})(?:\.(\d{1,9}))?s\s*$")


def duration_seconds(value: object) -> float | None:
    """A protobuf Duration in its JSON form (``"30s"``, ``"1.5s"``) as seconds; None when it is not one."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)) + (int(match.group(2)) / 10 ** len(match.group(2)) if match.group(2) else 0.0)


def _google_retry_delay(details: object) -> float | None:
    """The longest back-off a Google RPC error's details ask for: ``google.rpc.RetryInfo.retryDelay`` or a
    GoogleAdsFailure error's ``details.quotaErrorDetails.retryDelay``."""
    found: list[float] = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        found.append(duration_seconds(detail.get("retryDelay")) or 0.0)
        errors = detail.get("errors")
        for error in errors if isinstance(errors, list) else []:
            extra = error.get("details") if isinstance(error, dict) else None
            quota = extra.get("quotaErrorDetails") if isinstance(extra, dict) else None
            if isinstance(quota, dict):
                found.append(duration_seconds(quota.get("retryDelay")) or 0.0)
    longest = max(found, default=0.0)
    return longest if longest > 0 else None

"""The provider interface: request/result types and the errors every provider raises.

A provider turns a :class:`TextRequest` into a :class:`TextResult` (or a prompt into an :class:`ImageResult`).
Each provider maps its SDK's failures onto the :class:`ProviderError` family below, so callers (and the one
retry policy in :mod:`.retry`) decide on ``retryable``/``retry_after_s`` and never on SDK classes.

Client safety: an error's message is composed here from the provider name, the HTTP status, the provider's
error type/code and (for bad requests only) the provider's own message, with the API key, the request's prompt
and anything shaped like a key masked. The SDK exception is not chained (``raise … from None``): its string
form and attributes carry raw response bodies and the outgoing request (with its ``Authorization`` header).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from promptsales.domain_core.shared.errors import UpstreamError

_PROVIDER_TEXT_LIMIT = 300
# Key shapes masked in provider messages even when they are not our key (OpenAI's 401 echoes a masked
# fragment such as "sk-abc***xyz"; an OpenAI-compatible server may echo anything).
_KEY_SHAPES = re.compile(r"(?:sk|rk|pk)-[A-Za-z0-9_*.\-]{3,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{4,}|Bearer\s+\S+")
# Prompt fragments shorter than this are not masked (they would mask ordinary words in the provider's text).
_MIN_MASKED_FRAGMENT = 12


@dataclass(frozen=True, slots=True)
class TextRequest:
    """One completion: a system instruction, the user prompt and the output limits.

    With ``json_schema`` the provider asks the model for JSON matching the schema (OpenAI: Structured Outputs,
    ``strict``; Anthropic: ``output_config.format``) and returns the raw JSON text, unparsed. For OpenAI's
    strict mode the schema must list every property in ``required`` and set ``additionalProperties: false``.
    """

    system: str
    prompt: str = field(repr=False)
    max_output_tokens: int = 800
    temperature: float = 0.7
    json_schema: dict[str, Any] | None = None
    schema_name: str = "result"


@dataclass(frozen=True, slots=True)
class TextResult:
    """A completion's text and what it cost (tokens as the provider counted them), for metering."""

    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class ImageResult:
    """A generated image (PNG bytes) at the model's nearest supported size; the caller resizes/crops it."""

    png: bytes = field(repr=False)
    provider: str
    model: str


class TextProvider(Protocol):
    """A text model behind one configuration (provider, model, key, base URL)."""

    name: str
    model: str

    async def complete(self, request: TextRequest) -> TextResult:
        """Run ``request``; raises a :class:`ProviderError` subclass on failure (after the retry policy)."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...


class ImageProvider(Protocol):
    """An image model."""

    async def generate_image(self, prompt: str, *, width: int, height: int) -> ImageResult:
        """A PNG for ``prompt`` at the model's supported size nearest to ``width``x``height`` (aspect first).

        The result is usually not exactly ``width``x``height``: the caller resizes/crops it to the placement.
        """
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...


# ------------------------------------------------------------------------------------------------- errors


class ProviderError(UpstreamError):
    """A model provider failed or refused the request.

    ``status`` is the HTTP status (None: no answer), ``error_type``/``error_code`` the provider's own words
    for it, ``retry_after_s`` the wait the provider asked for (Retry-After and kin), ``attempts`` how many
    requests were sent before giving up (set by the retry policy).
    """

    code = "provider_error"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, field=field, hint=hint)
        self.provider = provider
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.request_id = request_id
        self.retry_after_s = retry_after_s
        self.retryable = self.default_retryable if retryable is None else retryable
        self.attempts = 1

    def public_message(self) -> str:
        """The message, how many attempts were made, the provider's requested wait, and what to do next."""
        parts = [self.message]
        if self.attempts > 1:
            parts.append(f"Gave up after {self.attempts} attempts.")
        if self.retry_after_s is not None and self.retryable:
            parts.append(f"The provider asked to wait {_seconds(self.retry_after_s)} before retrying.")
        if self.request_id:
            parts.append(f"(provider request id {self.request_id})")
        if self.field and self.field not in self.message:
            parts.append(f"(field: {self.field})")
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)


class ProviderRateLimited(ProviderError):
    """Too many requests or tokens per minute for the provider account (429 ``rate_limit_exceeded``)."""

    code = "provider_rate_limited"
    default_retryable = True


class ProviderOverloaded(ProviderError):
    """The provider is overloaded (Anthropic 529 ``overloaded_error``, OpenAI 503 ``server_is_overloaded``)."""

    code = "provider_overloaded"
    default_retryable = True


class ProviderUnavailable(ProviderError):
    """A 5xx answer or no connection to the provider."""

    code = "provider_unavailable"
    default_retryable = True


class ProviderTimeout(ProviderError):
    """No answer within the configured timeout."""

    code = "provider_timeout"
    default_retryable = True


class ProviderQuotaExhausted(ProviderError):
    """The provider account has no quota/credit left (OpenAI 429 ``insufficient_quota``, Anthropic 402)."""

    code = "provider_quota_exhausted"


class ProviderAuthFailed(ProviderError):
    """The provider rejected the API key (401) or its permissions (403)."""

    code = "provider_auth_failed"


class ProviderBadRequest(ProviderError):
    """The provider refused the request as invalid (400/404/413/422): model name, parameters, schema, size."""

    code = "provider_bad_request"


# ----------------------------------------------------------------------------------------- classification

# Codes/types that mean "the account cannot pay for this", whatever the status: OpenAI 429 insufficient_quota,
# credit_balance_exhausted, billing_hard_limit_reached, billing_not_active…; Anthropic 402 billing_error, 429
# enforced_spend_limit_reached / contract_spend_limit_reached, 402 linked_organization_spend_limit_reached.
_QUOTA_MARKERS = ("quota", "billing", "credit", "spend_limit")
_OVERLOAD_MARKERS = frozenset({"overloaded_error", "server_is_overloaded", "slow_down", "overloaded"})


def classify(status: int, error_type: str | None, error_code: str | None) -> type[ProviderError]:
    """The error class for an HTTP error answer, from its status and the provider's type/code."""
    words = [word.lower() for word in (error_type, error_code) if word]
    if status == 402 or any(marker in word for word in words for marker in _QUOTA_MARKERS):
        return ProviderQuotaExhausted
    if status in (401, 403):
        return ProviderAuthFailed
    if status == 429:
        return ProviderRateLimited
    if status == 529 or (status >= 500 and any(word in _OVERLOAD_MARKERS for word in words)):
        return ProviderOverloaded
    if status in (408, 504):
        return ProviderTimeout
    if status == 409 or status >= 500:  # 409: a lock/concurrency timeout on the provider's side (the SDKs retry it)
        return ProviderUnavailable
    return ProviderBadRequest


def error_from_status(
    *,
    provider: str,
    status: int,
    error_type: str | None,
    error_code: str | None,
    provider_message: object,
    request_id: str | None,
    retry_after_s: float | None,
    secrets: Iterable[str],
) -> ProviderError:
    """A client-safe :class:`ProviderError` for an HTTP error answer (see :func:`classify`)."""
    cls = classify(status, error_type, error_code)
    error_type = safe_provider_text(error_type, secrets=secrets) or None
    error_code = safe_provider_text(error_code, secrets=secrets) or None
    ref = ", ".join(part for part in (f"HTTP {status}", error_code or error_type) if part)
    hint: str
    if cls is ProviderQuotaExhausted:
        message = f"{provider} refused the request: the provider account's quota or credit is used up ({ref})."
        hint = (
            f"Check the billing of the {provider} account configured for this tenant/deployment (plan, credit "
            "balance, spend limits); retrying will not help until that is resolved."
        )
    elif cls is ProviderAuthFailed:
        what = "the API key" if status == 401 else "the request (the key lacks permission)"
        message = f"{provider} rejected {what} ({ref})."
        hint = "Check the API key configured for this tenant/deployment, and that it may use this model."
    elif cls is ProviderRateLimited:
        message = f"{provider} rate-limited the request ({ref})."
        hint = f"The {provider} account's request/token rate limit is reached; retry later or send fewer requests."
    elif cls is ProviderOverloaded:
        message = f"{provider} is overloaded ({ref})."
        hint = "This is temporary on the provider's side; retry later."
    elif cls is ProviderTimeout:
        message = f"{provider} timed out before answering ({ref})."
        hint = "Retry later."
    elif cls is ProviderUnavailable:
        message = f"{provider} failed to answer ({ref})."
        hint = "Retry later; if it persists, check the provider's status (or the self-hosted server)."
    else:
        detail = safe_provider_text(provider_message, secrets=secrets)
        message = f"{provider} refused the request as invalid ({ref})" + (f": {detail}" if detail else ".")
        hint = "Check the model name and the request parameters; retrying the same request will not help."
    return cls(
        message,
        provider=provider,
        status=status,
        error_type=error_type,
        error_code=error_code,
        request_id=safe_provider_text(request_id) or None,
        retry_after_s=retry_after_s if cls.default_retryable else None,
        hint=hint,
    )


def timeout_error(provider: str, timeout_s: float) -> ProviderTimeout:
    """No answer within ``timeout_s``."""
    return ProviderTimeout(
        f"{provider} did not answer within {timeout_s:g} s.",
        provider=provider,
        hint="Retry later, or raise the provider timeout for long outputs.",
    )


def connection_error(provider: str) -> ProviderUnavailable:
    """No connection could be made (DNS, refused, reset, TLS)."""
    return ProviderUnavailable(
        f"Could not connect to {provider}.",
        provider=provider,
        hint="Retry later; if it persists, check the provider's status (or the base URL of a self-hosted server).",
    )


def unexpected_answer(provider: str, problem: str) -> ProviderError:
    """A successful HTTP answer that is not what the provider's API documents (``problem`` says how)."""
    return ProviderError(
        f"{provider} sent an answer its API does not document: {problem}. Nothing was saved.",
        provider=provider,
        error_code="unexpected_answer",
        hint="Retry; if it persists, check the provider's base URL (an HTML page usually means a proxy or a "
        "wrong URL), or choose another model with content_set_ai_provider.",
    )


def refused(provider: str) -> ProviderBadRequest:
    """The model declined to answer (OpenAI ``message.refusal``, Anthropic ``stop_reason: refusal``)."""
    return ProviderBadRequest(
        f"The {provider} model declined to answer this request.",
        provider=provider,
        error_code="refusal",
        hint="Rephrase the brief; retrying the same request will likely be refused again.",
    )


# ------------------------------------------------------------------------------------------------ helpers


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def safe_provider_text(text: object, *, secrets: Iterable[str] = ()) -> str:
    """The provider's own message, fit for clients: key shapes and ``secrets`` masked, shortened.

    ``secrets`` are our API key and the request's prompt/system text; a provider that echoes them back (some
    OpenAI-compatible servers quote the input in validation errors) cannot pass them to the caller.
    """
    raw = str(text) if text not in (None, "") else ""
    for secret in secrets:
        if secret and len(secret) >= 4:
            raw = raw.replace(secret, "[redacted]")
    for secret in secrets:
        raw = _mask_fragments(raw, secret)
    raw = _KEY_SHAPES.sub("[redacted]", raw)
    raw = " ".join(raw.split())
    return raw if len(raw) <= _PROVIDER_TEXT_LIMIT else raw[: _PROVIDER_TEXT_LIMIT - 1] + "…"


def _mask_fragments(text: str, secret: str) -> str:
    """Mask any line of ``secret`` (a multi-line prompt) that appears in ``text``."""
    for line in secret.splitlines():
        line = line.strip()
        if len(line) >= _MIN_MASKED_FRAGMENT and line in text:
            text = text.replace(line, "[redacted]")
    return text

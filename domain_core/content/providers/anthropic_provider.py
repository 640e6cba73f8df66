"""Anthropic through the official ``anthropic`` SDK (2.x): the Messages API.

Structured output uses the Messages API's native ``output_config={"format": {"type": "json_schema", "schema":
…}}`` (structured outputs): the first text block is the JSON. Prefill (ending with a partial assistant turn)
is not used: newer models refuse it with a 400, and a tool-use forcing pattern costs extra tokens.

``TextRequest.temperature`` is not sent: the Messages API of SDK 2.x has no temperature parameter.

Quirks of SDK 2.15 (checked in its sources): the API key travels as ``Authorization: Bearer <key>`` (not
``x-api-key``), and the SDK pins ``anthropic-version: 2026-10-21``. The client is built with ``max_retries=0``
(the one policy in :mod:`.retry` decides), an explicit ``api_key`` (so no credential is read from the
environment or a profile on disk) and an explicit base URL (so ``ANTHROPIC_BASE_URL`` cannot re-route a
tenant's key); ``ANTHROPIC_CUSTOM_HEADERS`` is still read by the SDK.
"""

import asyncio
import json
from collections.abc import Iterable

import anthropic
from anthropic.types import Message, MessageParam, OutputConfigParam
from pydantic import SecretStr

from promptsales.domain_core.content.providers.answers import anthropic_text, unreadable_body
from promptsales.domain_core.content.providers.base import (
    ProviderError,
    TextRequest,
    TextResult,
    connection_error,
    error_from_status,
    timeout_error,
    unexpected_answer,
)
from promptsales.domain_core.content.providers.retry import RetryBudget, Sleep, retry_after_from_headers

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


def map_anthropic_error(
    exc: anthropic.AnthropicError, *, provider: str, timeout_s: float, secrets: Iterable[str]
) -> ProviderError:
    """The :class:`ProviderError` for an ``anthropic`` SDK exception (client-safe; the SDK error is not kept)."""
    if isinstance(exc, anthropic.APITimeoutError):
        return timeout_error(provider, timeout_s)
    if isinstance(exc, anthropic.APIConnectionError):
        return connection_error(provider)
    if isinstance(exc, anthropic.APIStatusError):
        # {type: "error", error: {type, message, details?: {error_code}}}; the SDK lifts these onto the error.
        return error_from_status(
            provider=provider,
            status=exc.status_code,
            error_type=exc.type if isinstance(exc.type, str) else None,
            error_code=exc.error_code,
            provider_message=exc.api_message,
            request_id=exc.request_id,
            retry_after_s=retry_after_from_headers(exc.response.headers),
            secrets=secrets,
        )
    if isinstance(exc, anthropic.APIResponseValidationError):
        return unexpected_answer(provider, "the response does not match the documented shape")
    return ProviderError(
        f"The {provider} client failed ({type(exc).__name__}).",
        provider=provider,
        hint="Check the provider configuration for this tenant/deployment.",
    )


class AnthropicTextProvider:
    """Text from Anthropic's Messages API."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str | SecretStr,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 3,
        sleep: Sleep = asyncio.sleep,
        *,
        max_retry_after_s: float = 30.0,
        total_timeout_s: float | None = None,
    ) -> None:
        self.model = model
        self._timeout_s = timeout_s
        self._retries = RetryBudget(max_attempts, max_retry_after_s, sleep, total_timeout_s, self.name)
        self._key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._client = anthropic.AsyncAnthropic(
            api_key=self._key,
            base_url=base_url or ANTHROPIC_BASE_URL,
            timeout=timeout_s,
            max_retries=0,
        )

    def __repr__(self) -> str:
        return f"AnthropicTextProvider(model={self.model!r})"

    async def complete(self, request: TextRequest) -> TextResult:
        """One message, under the retry policy."""
        return await self._retries.run(lambda: self._complete_once(request))

    async def _complete_once(self, request: TextRequest) -> TextResult:
        messages: list[MessageParam] = [{"role": "user", "content": request.prompt}]
        output_config: OutputConfigParam | anthropic.Omit = anthropic.omit
        if request.json_schema is not None:
            output_config = {"format": {"type": "json_schema", "schema": request.json_schema}}
        try:
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=request.max_output_tokens,
                system=request.system or anthropic.omit,
                messages=messages,
                output_config=output_config,
            )
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(
                exc, provider=self.name, timeout_s=self._timeout_s, secrets=(self._key, request.prompt, request.system)
            ) from None
        except json.JSONDecodeError:  # a 200 whose body is not JSON
            raise unreadable_body(self.name) from None
        return anthropic_text(message, provider=self.name, model=self.model, expected_type=Message)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()

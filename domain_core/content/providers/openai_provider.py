"""OpenAI (and any OpenAI-compatible server) through the official ``openai`` SDK: Chat Completions and Images.

Text uses Chat Completions for both kinds: one code path, and the API every OpenAI-compatible server
(vLLM, llama.cpp, Ollama, LiteLLM, TGI…) implements. Differences by kind:

* ``openai``: ``max_completion_tokens`` (``max_tokens`` is refused by reasoning models); ``temperature`` is left
  out for reasoning models (``o1``/``o3``/``o4``…, ``gpt-5``…), which accept only their default;
* ``openai_compatible``: ``max_tokens`` (what such servers have long accepted) and ``temperature`` always.

Structured output: ``response_format={"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}``;
the message content is returned as the raw JSON text.

Answers are read defensively (:mod:`.answers`): a 200 that is not a completion is an ``UpstreamError`` naming what
was wrong. The SDK client is built with ``max_retries=0`` (the one policy in :mod:`.retry` decides) and an explicit base
URL (``https://api.openai.com/v1`` when none is configured), so ``OPENAI_BASE_URL`` in the environment cannot
re-route a tenant's key. The SDK still reads ``OPENAI_ORG_ID``/``OPENAI_PROJECT_ID``/``OPENAI_CUSTOM_HEADERS``:
leave them unset in multi-tenant deployments (a deployment org header with a tenant's key is refused).
"""

import asyncio
import base64
import binascii
import json
import math
import re
from collections.abc import Iterable
from typing import Literal

import openai
from openai.types import ImagesResponse
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import SecretStr

from promptsales.domain_core.content.providers.answers import openai_image_base64, openai_text, unreadable_body
from promptsales.domain_core.content.providers.base import (
    ImageResult,
    ProviderError,
    TextRequest,
    TextResult,
    connection_error,
    error_from_status,
    timeout_error,
    unexpected_answer,
)
from promptsales.domain_core.content.providers.retry import RetryBudget, Sleep, retry_after_from_headers
from promptsales.domain_core.shared.errors import ValidationFailed

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_IMAGE_MODEL = "gpt-image-2"  # gpt-image-1 was shut down on 2026-10-23 (openai SDK 3.x docs)
# Image generation takes far longer than text: never give it less than this, whatever the text timeout is.
MIN_IMAGE_TIMEOUT_S = 120.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Sizes every GPT Image model accepts; the retired DALL-E models had their own.
GPT_IMAGE_SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))
DALL_E_3_SIZES = ((1024, 1024), (1792, 1024), (1024, 1792))
DALL_E_2_SIZES = ((256, 256), (512, 512), (1024, 1024))
_REASONING_MODEL = re.compile(r"^(?:o\d|gpt-5)", re.IGNORECASE)
_SCHEMA_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

ProviderName = Literal["openai", "openai_compatible"]


def _sdk_client(
    api_key: str | SecretStr, base_url: str | None, timeout_s: float, name: str
) -> tuple[openai.AsyncOpenAI, str]:
    key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    if not key and name == "openai_compatible":
        key = "not-needed"  # self-hosted servers often want no key; the SDK insists on one
    client = openai.AsyncOpenAI(
        api_key=key,
        base_url=base_url or OPENAI_BASE_URL,
        timeout=timeout_s,
        max_retries=0,
    )
    return client, key


def _schema_name(name: str) -> str:
    """``json_schema.name`` as OpenAI accepts it: a-z, A-Z, 0-9, ``_`` and ``-``, at most 64 characters."""
    return _SCHEMA_NAME_UNSAFE.sub("_", name)[:64] or "result"


def map_openai_error(
    exc: openai.OpenAIError, *, provider: str, timeout_s: float, secrets: Iterable[str]
) -> ProviderError:
    """The :class:`ProviderError` for an ``openai`` SDK exception (client-safe; the SDK error is not kept)."""
    if isinstance(exc, openai.APITimeoutError):
        return timeout_error(provider, timeout_s)
    if isinstance(exc, openai.APIConnectionError):
        return connection_error(provider)
    if isinstance(exc, openai.APIStatusError):
        # The SDK hands ``.body`` the inner ``error`` object and reads ``code``/``type`` from it.
        body = exc.body if isinstance(exc.body, dict) else {}
        error_type = exc.type if isinstance(exc.type, str) else None
        error_code = exc.code if isinstance(exc.code, str) else None
        status = exc.status_code
        return error_from_status(
            provider=provider,
            status=status,
            error_type=error_type,
            error_code=error_code,
            provider_message=body.get("message"),
            request_id=exc.request_id,
            retry_after_s=retry_after_from_headers(exc.response.headers, rate_limit_resets=status == 429),
            secrets=secrets,
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return unexpected_answer(provider, "the response does not match the documented shape")
    return ProviderError(
        f"The {provider} client failed ({type(exc).__name__}).",
        provider=provider,
        hint="Check the provider configuration for this tenant/deployment.",
    )


class OpenAITextProvider:
    """Text from OpenAI, or from an OpenAI-compatible server at ``base_url`` (``name="openai_compatible"``)."""

    def __init__(
        self,
        api_key: str | SecretStr,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 3,
        name: ProviderName = "openai",
        sleep: Sleep = asyncio.sleep,
        *,
        max_retry_after_s: float = 30.0,
        total_timeout_s: float | None = None,
    ) -> None:
        self.name: str = name
        self.model = model
        self._timeout_s = timeout_s
        self._retries = RetryBudget(max_attempts, max_retry_after_s, sleep, total_timeout_s, name)
        self._client, self._key = _sdk_client(api_key, base_url, timeout_s, name)

    def __repr__(self) -> str:
        return f"OpenAITextProvider(name={self.name!r}, model={self.model!r})"

    async def complete(self, request: TextRequest) -> TextResult:
        """One chat completion, under the retry policy."""
        return await self._retries.run(lambda: self._complete_once(request))

    async def _complete_once(self, request: TextRequest) -> TextResult:
        messages: list[ChatCompletionMessageParam] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        response_format: ResponseFormat | openai.Omit = openai.omit
        if request.json_schema is not None:
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.schema_name),
                    "schema": request.json_schema,
                    "strict": True,
                },
            }
        compatible = self.name == "openai_compatible"
        sends_temperature = compatible or not _REASONING_MODEL.match(self.model)
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_completion_tokens=openai.omit if compatible else request.max_output_tokens,
                max_tokens=request.max_output_tokens if compatible else openai.omit,
                temperature=request.temperature if sends_temperature else openai.omit,
                response_format=response_format,
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(
                exc, provider=self.name, timeout_s=self._timeout_s, secrets=self._secrets(request)
            ) from None
        except json.JSONDecodeError:  # a 200 whose body is not JSON
            raise unreadable_body(self.name) from None
        return openai_text(completion, provider=self.name, model=self.model, expected_type=ChatCompletion)

    def _secrets(self, request: TextRequest) -> tuple[str, ...]:
        return (self._key, request.prompt, request.system)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()


def nearest_image_size(model: str, width: int, height: int) -> tuple[int, int]:
    """The size ``model`` supports whose aspect ratio is nearest ``width``:``height`` (then the closest area).

    GPT Image models all accept 1024x1024, 1536x1024 and 1024x1536 (newer ones accept more; these three are
    the common set). The caller resizes/crops the result to the exact placement.
    """
    if width <= 0 or height <= 0:
        raise ValidationFailed("width and height must be positive.", field="width" if width <= 0 else "height")
    name = model.lower()
    sizes = DALL_E_3_SIZES if name.startswith("dall-e-3") else GPT_IMAGE_SIZES
    if name.startswith("dall-e-2"):
        sizes = DALL_E_2_SIZES
    wanted = math.log(width / height)

    def distance(size: tuple[int, int]) -> tuple[float, int]:
        return abs(math.log(size[0] / size[1]) - wanted), abs(size[0] * size[1] - width * height)

    return min(sizes, key=distance)


class OpenAIImageProvider:
    """Images from the OpenAI Images API (``POST /v1/images/generations``), returned as PNG bytes.

    GPT Image models always answer base64 (``b64_json``) and are asked for ``output_format="png"``; the
    ``response_format`` parameter is only sent to DALL-E models (the SDK documents it as unsupported for GPT
    Image models).
    """

    name = "openai"

    def __init__(
        self,
        api_key: str | SecretStr,
        model: str = DEFAULT_IMAGE_MODEL,
        base_url: str | None = None,
        timeout_s: float = MIN_IMAGE_TIMEOUT_S,
        max_attempts: int = 3,
        sleep: Sleep = asyncio.sleep,
        *,
        max_retry_after_s: float = 30.0,
        total_timeout_s: float | None = None,
    ) -> None:
        self.model = model
        self._timeout_s = timeout_s
        self._retries = RetryBudget(max_attempts, max_retry_after_s, sleep, total_timeout_s, self.name)
        self._client, self._key = _sdk_client(api_key, base_url, timeout_s, self.name)

    def __repr__(self) -> str:
        return f"OpenAIImageProvider(model={self.model!r})"

    async def generate_image(self, prompt: str, *, width: int, height: int) -> ImageResult:
        """One PNG at the supported size nearest ``width``x``height``; the caller resizes/crops it."""
        size = nearest_image_size(self.model, width, height)
        return await self._retries.run(lambda: self._generate_once(prompt, size))

    async def _generate_once(self, prompt: str, size: tuple[int, int]) -> ImageResult:
        legacy = self.model.lower().startswith("dall-e")
        try:
            response = await self._client.images.generate(
                model=self.model,
                prompt=prompt,
                n=1,
                size=f"{size[0]}x{size[1]}",
                output_format=openai.omit if legacy else "png",
                response_format="b64_json" if legacy else openai.omit,
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(
                exc, provider=self.name, timeout_s=self._timeout_s, secrets=(self._key, prompt)
            ) from None
        except json.JSONDecodeError:  # a 200 whose body is not JSON
            raise unreadable_body(self.name) from None
        encoded = openai_image_base64(response, provider=self.name, expected_type=ImagesResponse)
        try:
            png = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise unexpected_answer(self.name, "data[0].b64_json is not valid base64") from None
        if not png.startswith(PNG_SIGNATURE):
            raise unexpected_answer(self.name, "the image is not a PNG")
        return ImageResult(png=png, provider=self.name, model=self.model)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()

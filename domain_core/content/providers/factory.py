"""Build a provider from one tenant's (or the deployment's) configuration."""

import asyncio
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from promptsales.domain_core.content.providers.base import ImageProvider, TextProvider
from promptsales.domain_core.content.providers.retry import Sleep

ProviderKind = Literal["openai", "anthropic", "openai_compatible"]


class ProviderConfig(BaseModel):
    """Which provider and model, with which key, where, and how patiently.

    ``base_url`` is the API root the SDK appends paths to: for OpenAI(-compatible) servers it ends in ``/v1``
    (``http://gpu-box:8000/v1``), for Anthropic it is the host (``https://api.anthropic.com``). Required for
    ``openai_compatible``; optional otherwise (a proxy/gateway). The API key may be empty only for
    ``openai_compatible`` (self-hosted servers often need none).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ProviderKind
    model: str = Field(min_length=1, max_length=200)
    api_key: SecretStr
    base_url: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per attempt.")
    max_attempts: int = Field(default=3, ge=1, le=10)
    total_timeout_s: float | None = Field(default=None, gt=0, le=3600, description="Per call, across attempts.")

    @field_validator("model")
    @classmethod
    def _model_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("model must not be blank")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise ValueError("base_url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host, such as https://llm.example.com/v1")
        if parts.username or parts.password:
            raise ValueError("base_url must not carry credentials; put the key in api_key")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not have a query string or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.kind == "openai_compatible" and self.base_url is None:
            raise ValueError("openai_compatible needs base_url (the server's API root, e.g. http://host:8000/v1)")
        if self.kind != "openai_compatible" and not self.api_key.get_secret_value().strip():
            raise ValueError(f"{self.kind} needs an API key")
        return self


def build_text_provider(config: ProviderConfig, *, sleep: Sleep = asyncio.sleep) -> TextProvider:
    """The text provider for ``config`` (one SDK client; reuse it and ``aclose()`` it when done)."""
    # The SDKs are imported when a tenant first uses them: together they cost ~3 s of start-up otherwise.
    if config.kind == "anthropic":
        from promptsales.domain_core.content.providers.anthropic_provider import AnthropicTextProvider

        return AnthropicTextProvider(
            api_key=config.api_key,
            model=config.model,
            base_url=config.base_url,
            timeout_s=config.timeout_s,
            max_attempts=config.max_attempts,
            sleep=sleep,
            total_timeout_s=config.total_timeout_s,
        )
    from promptsales.domain_core.content.providers.openai_provider import OpenAITextProvider

    return OpenAITextProvider(
        api_key=config.api_key,
        model=config.model,
        base_url=config.base_url,
        timeout_s=config.timeout_s,
        max_attempts=config.max_attempts,
        name=config.kind,
        sleep=sleep,
        total_timeout_s=config.total_timeout_s,
    )


def build_image_provider(config: ProviderConfig, *, sleep: Sleep = asyncio.sleep) -> ImageProvider | None:
    """The image provider for ``config`` (``config.model`` is the image model), or None: only ``openai`` has one.

    The timeouts are at least :data:`MIN_IMAGE_TIMEOUT_S`: image generation takes far longer than text.
    """
    if config.kind != "openai":
        return None
    from promptsales.domain_core.content.providers.openai_provider import MIN_IMAGE_TIMEOUT_S, OpenAIImageProvider

    return OpenAIImageProvider(
        api_key=config.api_key,
        model=config.model,
        base_url=config.base_url,
        timeout_s=max(config.timeout_s, MIN_IMAGE_TIMEOUT_S),
        max_attempts=config.max_attempts,
        sleep=sleep,
        total_timeout_s=max(config.total_timeout_s, MIN_IMAGE_TIMEOUT_S) if config.total_timeout_s else None,
    )

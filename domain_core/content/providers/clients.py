"""Provider clients reused across calls: one SDK client per configuration (provider, model, key, base URL)."""

import hashlib

from promptsales.domain_core.content.providers.base import ImageProvider, TextProvider
from promptsales.domain_core.content.providers.factory import ProviderConfig, build_image_provider, build_text_provider


class ProviderClients:
    """Builds each configuration's client once and closes them all at shutdown."""

    def __init__(self) -> None:
        self._text: dict[str, TextProvider] = {}
        self._images: dict[str, ImageProvider | None] = {}

    def text(self, config: ProviderConfig) -> TextProvider:
        """The text provider for ``config``."""
        key = _fingerprint(config)
        provider = self._text.get(key)
        if provider is None:
            provider = self._text[key] = build_text_provider(config)
        return provider

    def image(self, config: ProviderConfig) -> ImageProvider | None:
        """The image provider for ``config`` (None: the kind has no image model)."""
        key = _fingerprint(config)
        if key not in self._images:
            self._images[key] = build_image_provider(config)
        return self._images[key]

    async def aclose(self) -> None:
        """Close every client."""
        for provider in self._text.values():
            await provider.aclose()
        for image in self._images.values():
            if image is not None:
                await image.aclose()
        self._text.clear()
        self._images.clear()


def _fingerprint(config: ProviderConfig) -> str:
    raw = "|".join(
        (
            config.kind,
            config.model,
            str(config.base_url),
            config.api_key.get_secret_value(),
            f"{config.timeout_s}:{config.max_attempts}:{config.total_timeout_s}",
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()

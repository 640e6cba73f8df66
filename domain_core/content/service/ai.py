"""Which model writes for a tenant (local, an API provider, or the MCP client's own model) and calling it.

API keys are the deployment's (settings) or the tenant's own (sealed in tenant_credentials). The ``sampling``
provider cannot be called from here: the request goes back to the MCP client (``NeedsSampling``), and the
tool passes the client's answer in on its next round.
"""

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.dto import AiSettingsView, Usage
from promptsales.domain_core.content.providers.base import ImageProvider, TextProvider, TextRequest, TextResult
from promptsales.domain_core.content.providers.factory import ProviderConfig, build_image_provider, build_text_provider
from promptsales.domain_core.content.tables import AiSettingsRecord
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError, ValidationFailed

LOCAL = Usage(provider="local", model="promptsales-local-1")
API_PROVIDERS = ("openai", "anthropic", "openai_compatible")
DEFAULT_MODELS = {
    "local": "promptsales-local-1",
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "openai_compatible": "default",
    "sampling": "client",
}


def credential_name(provider: str) -> str:
    """Where a tenant's key for ``provider`` is sealed."""
    return f"llm:{provider}"


class NeedsSampling(DomainError):
    """The tenant writes with the MCP client's own model: this request must go back to the client."""

    code = "needs_sampling"

    def __init__(self, request: TextRequest) -> None:
        super().__init__(
            "This step asks the connected client's model to write (the tenant's provider is 'sampling').",
            hint="Use a client on MCP 2026-07-28 that answers sampling requests, or choose another provider "
            "with content_set_ai_provider.",
        )
        self.request = request


@dataclass(frozen=True, slots=True)
class Sampled:
    """What the MCP client's model answered to a sampling request."""

    text: str
    model: str


@dataclass(frozen=True, slots=True)
class Deployment:
    """The deployment's defaults (settings): provider, model and keys used when a tenant chose nothing."""

    text_provider: str = "local"
    text_model: str = DEFAULT_MODELS["local"]
    image_provider: str = "local"
    image_model: str = "gpt-image-2"
    base_url: str | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    timeout_s: float = 30.0
    max_attempts: int = 3

    def key_for(self, provider: str) -> SecretStr | None:
        """The deployment's API key for ``provider``."""
        return self.anthropic_api_key if provider == "anthropic" else self.openai_api_key


@dataclass(frozen=True, slots=True)
class TextChoice:
    """The resolved writer for one call."""

    kind: Literal["local", "openai", "anthropic", "openai_compatible", "sampling"]
    model: str
    provider: TextProvider | None


class AiProviders:
    """Per-tenant provider choice, with provider clients reused across calls of the same configuration."""

    def __init__(self, uow: UnitOfWorkFactory, store: CredentialStore, deployment: Deployment) -> None:
        self._uow = uow
        self._store = store
        self._deployment = deployment
        self._text: dict[str, TextProvider] = {}
        self._images: dict[str, ImageProvider] = {}

    async def _resolve(self, caller: Caller, purpose: str = "text") -> tuple[AiSettingsView, SecretStr | None]:
        """The tenant's choice and the API key for the text provider (``purpose="text"``) or images."""

        async def work(uow: UnitOfWork) -> tuple[AiSettingsView, SecretStr | None]:
            view = self._view(await repo.ai_settings(uow.session, uow.tenant_id), stored=False)
            if purpose == "image":
                provider = "openai" if view.image_provider == "openai" else None
            else:
                provider = view.text_provider if view.text_provider in API_PROVIDERS else None
            if provider is None:
                return view, None
            secret = await self._store.get(uow, credential_name(provider))
            view = view.model_copy(update={"api_key_stored": secret is not None})
            return view, SecretStr(secret["api_key"]) if secret else self._deployment.key_for(provider)

        return await self._uow.read(caller, work)

    def _view(self, record: AiSettingsRecord | None, *, stored: bool) -> AiSettingsView:
        d = self._deployment
        if record is None:
            return AiSettingsView(
                text_provider=d.text_provider,
                text_model=d.text_model,
                image_provider=d.image_provider,
                image_model=d.image_model,
                base_url=d.base_url,
                api_key_stored=stored,
            )
        return AiSettingsView(
            text_provider=record.text_provider,
            text_model=record.text_model,
            image_provider=record.image_provider,
            image_model=record.image_model,
            base_url=record.base_url,
            api_key_stored=stored,
        )

    async def settings(self, caller: Caller) -> AiSettingsView:
        """The tenant's provider choice as it applies now."""
        return (await self._resolve(caller))[0]

    async def text_choice(self, caller: Caller) -> TextChoice:
        """The writer for ``caller``'s tenant (the provider client is built once per configuration)."""
        view, key = await self._resolve(caller)
        kind = view.text_provider
        if kind in ("local", "sampling"):
            return TextChoice(kind=kind, model=view.text_model, provider=None)
        if key is None:
            raise ValidationFailed(
                f"The tenant's text provider is {kind}, but no API key is configured for it.",
                field="api_key",
                hint="Store one with content_set_ai_provider, or set it in the deployment settings.",
            )
        config = ProviderConfig(
            kind=kind,
            model=view.text_model,
            api_key=key,
            base_url=view.base_url if kind != "anthropic" or view.base_url else None,
            timeout_s=self._deployment.timeout_s,
            max_attempts=self._deployment.max_attempts,
        )
        fingerprint = _fingerprint(config)
        provider = self._text.get(fingerprint)
        if provider is None:
            provider = self._text[fingerprint] = build_text_provider(config)
        return TextChoice(kind=kind, model=view.text_model, provider=provider)

    async def image_provider(self, caller: Caller) -> tuple[ImageProvider | None, str]:
        """The tenant's image model (None: render offline) and its model name."""
        view, key = await self._resolve(caller, "image")
        if view.image_provider != "openai":
            return None, "promptsales-render-1"
        if key is None:
            raise ValidationFailed(
                "The tenant's image provider is openai, but no OpenAI API key is configured.",
                field="api_key",
                hint="Store one with content_set_ai_provider, or set PROMPTSALES_OPENAI_API_KEY.",
            )
        config = ProviderConfig(
            kind="openai",
            model=view.image_model,
            api_key=key,
            base_url=view.base_url,  # an OpenAI proxy or gateway serves images too
            timeout_s=self._deployment.timeout_s,
            max_attempts=self._deployment.max_attempts,
        )
        fingerprint = _fingerprint(config)
        provider = self._images.get(fingerprint)
        if provider is None:
            built = build_image_provider(config)
            if built is None:
                return None, "promptsales-render-1"
            provider = self._images[fingerprint] = built
        return provider, view.image_model

    async def complete(self, choice: TextChoice, request: TextRequest, *, sampled: Sampled | None) -> TextResult:
        """Run ``request`` on the chosen API provider, or take the MCP client's answer (sampling)."""
        if choice.kind == "sampling":
            if sampled is None:
                raise NeedsSampling(request)
            return TextResult(
                text=sampled.text, provider="sampling", model=sampled.model, input_tokens=0, output_tokens=0
            )
        assert choice.provider is not None, "local generation does not call a provider"
        return await choice.provider.complete(request)

    async def store(
        self,
        uow: UnitOfWork,
        *,
        text_provider: str,
        text_model: str | None,
        image_provider: str,
        image_model: str | None,
        base_url: str | None,
        api_key: str | None,
    ) -> AiSettingsView:
        """Save the tenant's choice (and its API key, sealed); validates that the combination can work."""
        if text_provider == "openai_compatible" and not base_url:
            raise ValidationFailed("openai_compatible needs the server's base_url.", field="base_url")
        record = await repo.ai_settings(uow.session, uow.tenant_id)
        before = self._view(record, stored=False).model_dump()
        if record is None:
            record = AiSettingsRecord(
                tenant_id=uow.tenant_id,
                text_provider="",
                text_model="",
                image_provider="",
                image_model="",
                updated_at=uow.now,
            )
        record.text_provider = text_provider
        record.text_model = text_model or DEFAULT_MODELS[text_provider]
        record.image_provider = image_provider
        record.image_model = image_model or ("gpt-image-2" if image_provider == "openai" else "promptsales-render-1")
        record.base_url = base_url
        record.updated_at = uow.now
        uow.session.add(record)
        if api_key:
            # The key belongs to the API provider chosen for text, else to OpenAI images.
            owner = text_provider if text_provider in API_PROVIDERS else "openai"
            await self._store.put(uow, credential_name(owner), {"api_key": api_key}, label=f"key …{api_key[-4:]}")
        await uow.session.flush()
        view = self._view(record, stored=bool(api_key))
        uow.audit(
            "content.set_ai_provider",
            target_type="ai_settings",
            target_id=uow.tenant_id,
            before=before,
            after=view.model_dump(),
        )
        return view

    async def aclose(self) -> None:
        """Close provider clients."""
        for provider in self._text.values():
            await provider.aclose()
        for image_provider in self._images.values():
            await image_provider.aclose()
        self._text.clear()
        self._images.clear()


def _fingerprint(config: ProviderConfig) -> str:
    raw = f"{config.kind}|{config.model}|{config.base_url}|{config.api_key.get_secret_value()}"
    return hashlib.sha256(raw.encode()).hexdigest()

"""Which model writes for a tenant (local, an API provider, or the MCP client's own model) and calling it.

API keys are the deployment's (settings) or the tenant's own (sealed in tenant_credentials). The ``sampling``
provider cannot be called from here: the request goes back to the MCP client (``NeedsSampling``), and the
tool passes the client's answer in on its next round.
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.commands import SetAiProvider
from promptsales.domain_core.content.dto import AiSettingsView, Usage
from promptsales.domain_core.content.providers.base import ImageProvider, TextProvider, TextRequest, TextResult
from promptsales.domain_core.content.providers.clients import ProviderClients
from promptsales.domain_core.content.providers.factory import ProviderConfig
from promptsales.domain_core.content.tables import AiSettingsRecord
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import DomainError, ValidationFailed

LOCAL = Usage(provider="local", model="promptsales-local-1")
LOCAL_RENDERER = "promptsales-render-1"
API_PROVIDERS = ("openai", "anthropic", "openai_compatible")
DEFAULT_MODELS = {
    "local": "promptsales-local-1",
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "openai_compatible": "default",
    "sampling": "client",
}
DEFAULT_IMAGE_MODEL = "gpt-image-2"
TextKind = Literal["local", "openai", "anthropic", "openai_compatible", "sampling"]


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
    image_model: str = DEFAULT_IMAGE_MODEL
    base_url: str | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    timeout_s: float = 30.0
    max_attempts: int = 3
    total_timeout_s: float = 45.0

    def key_for(self, provider: str) -> SecretStr | None:
        """The deployment's API key for ``provider``."""
        return self.anthropic_api_key if provider == "anthropic" else self.openai_api_key


@dataclass(frozen=True, slots=True)
class Setup:
    """The tenant's choice as it applies now, with the API key for the provider asked about (if any)."""

    view: AiSettingsView
    key: SecretStr | None


@dataclass(frozen=True, slots=True)
class TextChoice:
    """The resolved writer for one call."""

    kind: TextKind
    model: str
    provider: TextProvider | None


def settings_view(record: AiSettingsRecord | None, deployment: Deployment, *, stored: bool) -> AiSettingsView:
    """The tenant's stored choice, or the deployment's defaults."""
    if record is None:
        return AiSettingsView(
            text_provider=deployment.text_provider,
            text_model=deployment.text_model,
            image_provider=deployment.image_provider,
            image_model=deployment.image_model,
            base_url=deployment.base_url,
            api_key_stored=stored,
        )
    return AiSettingsView(
        text_provider=record.text_provider,
        text_model=record.text_model,
        image_provider=record.image_provider,
        image_model=record.image_model,
        base_url=record.base_url,
        api_key_stored=stored,
        allow_self_approval=record.allow_self_approval,
    )


async def setup(
    uow: UnitOfWork, *, deployment: Deployment, store: CredentialStore, purpose: Literal["text", "image"] = "text"
) -> Setup:
    """The tenant's choice and the API key of its text provider (``purpose="text"``) or of OpenAI images."""
    view = settings_view(await repo.ai_settings(uow), deployment, stored=False)
    if purpose == "image":
        provider = "openai" if view.image_provider == "openai" else None
    else:
        provider = view.text_provider if view.text_provider in API_PROVIDERS else None
    if provider is None:
        return Setup(view, None)
    secret = await store.get(uow, credential_name(provider))
    view = view.model_copy(update={"api_key_stored": secret is not None})
    return Setup(view, SecretStr(secret["api_key"]) if secret else deployment.key_for(provider))


def _config(kind: str, model: str, key: SecretStr, base_url: str | None, deployment: Deployment) -> ProviderConfig:
    return ProviderConfig(
        kind=kind,  # an API provider (the callers checked)
        model=model,
        api_key=key,
        base_url=base_url,
        timeout_s=deployment.timeout_s,
        max_attempts=deployment.max_attempts,
        total_timeout_s=deployment.total_timeout_s,
    )


def text_choice(chosen: Setup, *, deployment: Deployment, clients: ProviderClients) -> TextChoice:
    """The writer for the tenant's setup (an API provider's client is built once per configuration)."""
    view = chosen.view
    kind: TextKind = view.text_provider
    if kind in ("local", "sampling"):
        return TextChoice(kind=kind, model=view.text_model, provider=None)
    if chosen.key is None:
        raise ValidationFailed(
            f"The tenant's text provider is {kind}, but no API key is configured for it.",
            field="api_key",
            hint="Store one with content_set_ai_provider, or set it in the deployment settings.",
        )
    base_url = view.base_url if kind != "anthropic" or view.base_url else None
    provider = clients.text(_config(kind, view.text_model, chosen.key, base_url, deployment))
    return TextChoice(kind=kind, model=view.text_model, provider=provider)


def image_choice(
    chosen: Setup, *, deployment: Deployment, clients: ProviderClients
) -> tuple[ImageProvider | None, str]:
    """The tenant's image model (None: render offline) and its model name."""
    view = chosen.view
    if view.image_provider != "openai":
        return None, LOCAL_RENDERER
    if chosen.key is None:
        raise ValidationFailed(
            "The tenant's image provider is openai, but no OpenAI API key is configured.",
            field="api_key",
            hint="Store one with content_set_ai_provider, or set PROMPTSALES_OPENAI_API_KEY.",
        )
    # An OpenAI proxy or gateway serves images too.
    provider = clients.image(_config("openai", view.image_model, chosen.key, view.base_url, deployment))
    return (provider, view.image_model) if provider is not None else (None, LOCAL_RENDERER)


@dataclass(frozen=True, slots=True)
class Writers:
    """The tenant's text and image setups for one call, turned into provider clients only when used."""

    text_setup: Setup
    image_setup: Setup
    deployment: Deployment
    clients: ProviderClients

    def text(self) -> TextChoice:
        """The text writer (ValidationFailed when an API provider has no key)."""
        return text_choice(self.text_setup, deployment=self.deployment, clients=self.clients)

    def image(self) -> tuple[ImageProvider | None, str]:
        """The image model (None: render offline) and its name."""
        return image_choice(self.image_setup, deployment=self.deployment, clients=self.clients)


async def writers(
    uow: UnitOfWork, *, deployment: Deployment, store: CredentialStore, clients: ProviderClients
) -> Writers:
    """The tenant's writers as configured now."""
    text = await setup(uow, deployment=deployment, store=store)
    image = await setup(uow, deployment=deployment, store=store, purpose="image")
    return Writers(text, image, deployment, clients)


async def complete(choice: TextChoice, request: TextRequest, *, sampled: Sampled | None) -> TextResult:
    """Run ``request`` on the chosen API provider, or take the MCP client's answer (sampling)."""
    if choice.kind == "sampling":
        if sampled is None:
            raise NeedsSampling(request)
        return TextResult(text=sampled.text, provider="sampling", model=sampled.model, input_tokens=0, output_tokens=0)
    assert choice.provider is not None, "local generation does not call a provider"
    return await choice.provider.complete(request)


async def store_settings(
    uow: UnitOfWork, command: SetAiProvider, *, deployment: Deployment, store: CredentialStore
) -> AiSettingsView:
    """Save the tenant's choice (and its API key, sealed); validates that the combination can work.

    Concurrent calls are queued (``repo.serialize``) and the row is upserted: each call replaces the choice
    in turn and none collides with another's first insert.
    """
    if command.text_provider == "openai_compatible" and not command.base_url:
        raise ValidationFailed("openai_compatible needs the server's base_url.", field="base_url")
    await repo.serialize(uow, "content_ai_settings")
    before = settings_view(await repo.ai_settings(uow), deployment, stored=False).model_dump()
    image_default = DEFAULT_IMAGE_MODEL if command.image_provider == "openai" else LOCAL_RENDERER
    values: dict[str, object] = {
        "text_provider": command.text_provider,
        "text_model": command.text_model or DEFAULT_MODELS[command.text_provider],
        "image_provider": command.image_provider,
        "image_model": command.image_model or image_default,
        "base_url": command.base_url,
    }
    if command.allow_self_approval is not None:  # omitted: the review rule stays as it is
        values["allow_self_approval"] = command.allow_self_approval
    await repo.upsert_ai_settings(uow, values)
    key = command.api_key.get_secret_value() if command.api_key is not None else None
    if key:
        # The key belongs to the API provider chosen for text, else to OpenAI images.
        owner = command.text_provider if command.text_provider in API_PROVIDERS else "openai"
        await store.put(uow, credential_name(owner), {"api_key": key}, label=f"key …{key[-4:]}")
    view = settings_view(await repo.ai_settings(uow), deployment, stored=bool(key))
    uow.audit(
        "content.set_ai_provider",
        target_type="ai_settings",
        target_id=uow.tenant_id,
        before=before,
        after=view.model_dump(),
    )
    return view

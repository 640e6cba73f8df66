"""Composition root of the content context: channel specs, provider choice (deployment defaults), facade."""

from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.providers.clients import ProviderClients
from promptsales.domain_core.content.service.ai import DEFAULT_MODELS, Deployment
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory

# The bound on one model call across its attempts when the settings do not name one (issue 8 A5).


def build_content(uow: UnitOfWorkFactory, settings: Settings) -> ContentFacade:
    """The content facade over the process's unit-of-work factory."""
    deployment = Deployment(
        text_provider=settings.content_text_provider,
        text_model=settings.content_text_model or DEFAULT_MODELS[settings.content_text_provider],
        image_provider=settings.content_image_provider,
        image_model=settings.content_image_model,
        base_url=settings.content_base_url,
        openai_api_key=settings.openai_api_key,
        anthropic_api_key=settings.anthropic_api_key,
        timeout_s=settings.llm_timeout_seconds,
        max_attempts=settings.llm_max_attempts,
        total_timeout_s=settings.llm_total_timeout_seconds,
    )
    return ContentFacade(
        uow,
        load_channel_specs(),
        deployment=deployment,
        credentials=CredentialStore(settings.key_ring()),
        clients=ProviderClients(),
    )

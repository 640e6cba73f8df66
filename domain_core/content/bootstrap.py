"""Composition root of the content context: channel specs, provider choice (deployment defaults), facade."""

from promptsales.domain_core.content.facade import ContentFacade
from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.service.ai import DEFAULT_MODELS, AiProviders, Deployment
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory


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
    )
    ai = AiProviders(uow, CredentialStore(settings.key_ring()), deployment)
    return ContentFacade(uow, load_channel_specs(), ai)

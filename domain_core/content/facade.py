"""The content context's only public surface: brand kits, copy, creatives, the library and AI services."""

from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.dto import (
    AiSettingsView,
    AssetPage,
    AssetView,
    BrandKitView,
    CheckResult,
    ClassificationView,
    CopyResult,
    CreativeResult,
    ExtractionView,
    InteractionSignals,
    SummaryView,
)
from promptsales.domain_core.content.model import text_analysis
from promptsales.domain_core.content.model.channel_specs import ChannelSpecs
from promptsales.domain_core.content.providers.base import ProviderError
from promptsales.domain_core.content.service import analysis, brand_kits, copy, library
from promptsales.domain_core.content.service.ai import AiProviders
from promptsales.domain_core.content.service.ai import NeedsSampling as NeedsSampling  # tools catch it
from promptsales.domain_core.content.service.ai import Sampled as Sampled  # tools pass the client's answer
from promptsales.domain_core.content.service.generation import Generator
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import NotFound

log = structlog.get_logger(__name__)
Progress = Callable[[int, int], Coroutine[Any, Any, None]]


class ContentFacade:
    """Use cases of the content context."""

    def __init__(self, uow: UnitOfWorkFactory, specs: ChannelSpecs, ai: AiProviders) -> None:
        self._uow = uow
        self._specs = specs
        self._ai = ai
        self._generate = Generator(uow, specs, ai)

    @property
    def specs(self) -> ChannelSpecs:
        """The channel specs in force."""
        return self._specs

    def channel_specs(self) -> dict[str, Any]:
        """Every channel's limits, placements and durations, with sources (the resource's content)."""
        return self._specs.as_resource()

    async def aclose(self) -> None:
        """Close provider clients."""
        await self._ai.aclose()

    # ------------------------------------------------------------------------------------- brand kits

    async def set_brand_kit(
        self,
        caller: Caller,
        *,
        name: str,
        logo_png_base64: str | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> BrandKitView:
        """Create or replace a brand kit (the first one is the default)."""
        logo = brand_kits.decode_logo(logo_png_base64) if logo_png_base64 else None
        return await self._uow.mutate(
            caller,
            action="content.set_brand_kit",
            arguments={"name": name, "logo": bool(logo), **fields},
            idempotency_key=idempotency_key,
            work=lambda uow: brand_kits.set_brand_kit(uow, name=name, fields=fields, logo=logo),
            result_type=BrandKitView,
        )

    async def get_brand_kit(self, caller: Caller, *, name: str | None = None) -> BrandKitView:
        """The named kit, or the default one."""

        async def work(uow: UnitOfWork) -> BrandKitView:
            record = await brand_kits.find_brand_kit(uow, name, required=True)
            assert record is not None
            return brand_kits.brand_kit_view(record)

        return await self._uow.read(caller, work)

    # ------------------------------------------------------------------------------------------- copy

    async def generate_copy(self, caller: Caller, **request: Any) -> CopyResult:
        """N variants within the channel spec, linted, each kept as a draft asset (one generation each).

        ``request``: brief, channel, format, language, tone, variants, brand_kit, idempotency_key, sampled.
        """
        return await self._generate.copy(caller, **request)

    async def check_copy(
        self,
        caller: Caller,
        *,
        copy_fields: dict[str, Any],
        channel: str,
        format: str,
        brand_kit: str | None = None,
        rewrite: bool = False,
    ) -> CheckResult:
        """Lint copy against the channel spec and the brand kit; with ``rewrite``, fix it first."""
        spec = self._specs.format(channel, format)
        kit, _ = await self._generate.kit(caller, brand_kit)
        return copy.check(copy_fields, spec, brand_kits.brand_rules(kit), rewrite=rewrite)

    # -------------------------------------------------------------------------------------- creatives

    async def generate_image(self, caller: Caller, **request: Any) -> tuple[CreativeResult, bytes]:
        """A PNG at the placement's exact size, kept in the library; returns it with its bytes.

        ``request``: brief, placement, brand_kit, language, variant, idempotency_key, sampled.
        """
        return await self._generate.image(caller, **request)

    async def generate_video(self, caller: Caller, **request: Any) -> CreativeResult:
        """An H.264 MP4 for the placement (from a storyboard, or hook → benefit → CTA from the brief).

        ``request``: placement, brief, storyboard, duration_seconds, brand_kit, language, idempotency_key,
        progress, sampled.
        """
        return await self._generate.video(caller, **request)

    async def file(self, caller: Caller, sha256: str) -> bytes:
        """A stored file's bytes (images, videos, logos)."""

        async def work(uow: UnitOfWork) -> bytes:
            blob = await repo.blob(uow.session, uow.tenant_id, sha256)
            if blob is None:
                raise NotFound("file", sha256, field="sha256")
            return bytes(blob.data)

        return await self._uow.read(caller, work)

    async def file_with_type(self, caller: Caller, sha256: str) -> tuple[bytes, str]:
        """A stored file's bytes and MIME type."""

        async def work(uow: UnitOfWork) -> tuple[bytes, str]:
            blob = await repo.blob(uow.session, uow.tenant_id, sha256)
            if blob is None:
                raise NotFound("file", sha256, field="sha256")
            return bytes(blob.data), blob.mime_type

        return await self._uow.read(caller, work)

    # ---------------------------------------------------------------------------------------- library

    async def list_assets(
        self,
        caller: Caller,
        *,
        kind: str | None = None,
        status: str | None = None,
        channel: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> AssetPage:
        """Library assets newest first."""
        return await self._uow.read(
            caller,
            lambda uow: library.list_assets(uow, kind=kind, status=status, channel=channel, cursor=cursor, limit=limit),
        )

    async def get_asset(self, caller: Caller, asset_id: str) -> AssetView:
        """An asset with its versions."""
        return await self._uow.read(caller, lambda uow: library.get_asset(uow, asset_id))

    async def decide_asset(
        self,
        caller: Caller,
        asset_id: str,
        decision: str,
        *,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> AssetView:
        """submit / approve / reject an asset, recording who decided."""
        return await self._uow.mutate(
            caller,
            action=f"content.{decision}_asset",
            arguments={"asset_id": asset_id, "note": note},
            idempotency_key=idempotency_key,
            work=lambda uow: library.decide(uow, asset_id, decision, note),
            result_type=AssetView,
        )

    async def approved_assets(self, caller: Caller, asset_ids: list[str]) -> dict[str, bool]:
        """Whether each asset is approved (campaign activation accepts only approved assets)."""
        return await self._uow.read(caller, lambda uow: library.approved(uow, asset_ids))

    # ------------------------------------------------------------------------------------ AI services

    async def classify_text(
        self,
        caller: Caller,
        *,
        text: str,
        intents: list[str] | None = None,
        topics: list[str] | None = None,
        sampled: Sampled | None = None,
    ) -> ClassificationView:
        """Intent, sentiment and (with labels) topic of a text."""
        choice = await self._ai.text_choice(caller)
        return await analysis.classify(self._ai, choice, text=text, intents=intents, topics=topics, sampled=sampled)

    async def summarize(
        self,
        caller: Caller,
        *,
        text: str,
        max_sentences: int = 3,
        max_chars: int | None = None,
        sampled: Sampled | None = None,
    ) -> SummaryView:
        """A summary of a text (extractive when local)."""
        choice = await self._ai.text_choice(caller)
        return await analysis.summarize(
            self._ai, choice, text=text, max_sentences=max_sentences, max_chars=max_chars, sampled=sampled
        )

    async def extract_fields(
        self, caller: Caller, *, text: str, schema: dict[str, Any], sampled: Sampled | None = None
    ) -> ExtractionView:
        """Fields of a JSON schema found in a text (never invented)."""
        choice = await self._ai.text_choice(caller)
        return await analysis.extract(self._ai, choice, text=text, schema=schema, sampled=sampled)

    async def analyze_interaction(self, caller: Caller, text: str) -> InteractionSignals:
        """Intent and sentiment for CRM's interaction log: the tenant's API model, else (or on failure) local."""
        try:
            choice = await self._ai.text_choice(caller)
            if choice.kind in ("openai", "anthropic", "openai_compatible"):
                view = await analysis.classify(self._ai, choice, text=text, intents=None, topics=None, sampled=None)
                return InteractionSignals(
                    intent=view.intent,
                    intent_confidence=view.intent_confidence,
                    sentiment=view.sentiment,
                    sentiment_score=view.sentiment_score,
                )
        except (ProviderError, NeedsSampling) as exc:
            log.warning("interaction_analysis_fell_back_to_local", code=exc.code)
        mood = text_analysis.sentiment(text)
        intent = text_analysis.intent(text)
        return InteractionSignals(
            intent=intent.label, intent_confidence=intent.confidence, sentiment=mood.label, sentiment_score=mood.score
        )

    # ---------------------------------------------------------------------------------- AI settings

    async def get_ai_settings(self, caller: Caller) -> AiSettingsView:
        """The tenant's provider choice."""
        return await self._ai.settings(caller)

    async def set_ai_provider(
        self, caller: Caller, *, idempotency_key: str | None = None, **choice: Any
    ) -> AiSettingsView:
        """Choose the tenant's text and image providers (and store an API key, sealed)."""
        key = choice.get("api_key")
        arguments = {k: v for k, v in choice.items() if k != "api_key"} | {"api_key_set": bool(key)}
        return await self._uow.mutate(
            caller,
            action="content.set_ai_provider",
            arguments=arguments,
            idempotency_key=idempotency_key,
            work=lambda uow: self._ai.store(uow, **choice),
            result_type=AiSettingsView,
        )

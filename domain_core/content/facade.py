"""The content context's only public surface: brand kits, copy, creatives, the library and AI services.

Each method opens the units of work and calls the services. Generation is paid work (a model call, a render):
it goes through ``mutate_paid``, so the idempotency key is claimed before anything is paid for and a replayed
key returns the first result without calling the model or the renderer again.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from promptsales.domain_core.content.commands import (
    DecideAsset,
    GenerateCopy,
    GenerateImage,
    GenerateVideo,
    ImportDesign,
    PushBrandKit,
    SetAiProvider,
    SetBrandKit,
)
from promptsales.domain_core.content.dto import (
    AiSettingsView,
    ApprovedCopy,
    AssetPage,
    AssetView,
    BrandKitPush,
    BrandKitView,
    CheckResult,
    ClassificationView,
    CopyResult,
    CreativeResult,
    ExtractionView,
    ImportedDesign,
    InteractionSignals,
    SummaryView,
)
from promptsales.domain_core.content.model import text_analysis
from promptsales.domain_core.content.model.channel_specs import ChannelSpecs
from promptsales.domain_core.content.providers.base import ProviderError
from promptsales.domain_core.content.providers.clients import ProviderClients
from promptsales.domain_core.content.service import ai, analysis, brand_kits, copy, design_import, generation, library
from promptsales.domain_core.content.service.ai import Deployment, TextChoice
from promptsales.domain_core.content.service.ai import NeedsSampling as NeedsSampling  # tools catch it
from promptsales.domain_core.content.service.ai import Sampled as Sampled  # tools pass the client's answer
from promptsales.domain_core.content.service.generation import Inputs
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed

log = structlog.get_logger(__name__)
Progress = Callable[[int, int], Coroutine[Any, Any, None]]
# Exports a design as PNG: (caller, platform, design id) -> the file (the integrations context's, wired in).
DesignSource = Callable[[Caller, str, str], Awaitable[ImportedDesign]]
# Uploads a logo: (caller, platform, PNG, name) -> its id on the platform (the integrations context's, wired in).
BrandPush = Callable[[Caller, str, bytes, str], Awaitable[str]]


class ContentFacade:
    """Use cases of the content context."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        specs: ChannelSpecs,
        *,
        deployment: Deployment,
        credentials: CredentialStore,
        clients: ProviderClients,
    ) -> None:
        self._uow = uow
        self._specs = specs
        self._design_source: DesignSource | None = None
        self._brand_push: BrandPush | None = None
        self._deployment = deployment
        self._credentials = credentials
        self._clients = clients

    @property
    def specs(self) -> ChannelSpecs:
        """The channel specs in force."""
        return self._specs

    def channel_specs(self) -> dict[str, Any]:
        """Every channel's limits, placements and durations, with sources (the resource's content)."""
        return self._specs.as_resource()

    async def aclose(self) -> None:
        """Close provider clients."""
        await self._clients.aclose()

    async def _inputs(self, caller: Caller, brand_kit: str | None) -> Inputs:
        return await self._uow.read(
            caller,
            lambda uow: generation.read_inputs(
                uow,
                brand_kit=brand_kit,
                deployment=self._deployment,
                store=self._credentials,
                clients=self._clients,
            ),
        )

    async def _text_choice(self, caller: Caller) -> TextChoice:
        writers = await self._uow.read(
            caller,
            lambda uow: ai.writers(uow, deployment=self._deployment, store=self._credentials, clients=self._clients),
        )
        return writers.text()

    # ------------------------------------------------------------------------------------- brand kits

    async def set_brand_kit(
        self, caller: Caller, command: SetBrandKit, *, idempotency_key: str | None = None
    ) -> BrandKitView:
        """Create or replace a brand kit (the first one is the default)."""
        return await self._uow.mutate(
            caller,
            action="content.set_brand_kit",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: brand_kits.set_brand_kit(uow, command),
            result_type=BrandKitView,
        )

    async def get_brand_kit(self, caller: Caller, *, name: str | None = None) -> BrandKitView:
        """The named kit, or the default one."""
        return await self._uow.read(caller, lambda uow: brand_kits.get_brand_kit(uow, name=name))

    # ------------------------------------------------------------------------------------------- copy

    async def generate_copy(
        self,
        caller: Caller,
        command: GenerateCopy,
        *,
        idempotency_key: str | None = None,
        sampled: Sampled | None = None,
    ) -> CopyResult:
        """N variants within the channel spec, linted, each kept as a draft asset (one generation each)."""
        spec = self._specs.format(command.channel, command.format)

        async def prepare() -> generation.DraftedCopy:
            inputs = await self._inputs(caller, command.brand_kit)
            return await generation.draft_copy(command, spec=spec, inputs=inputs, sampled=sampled)

        return await self._uow.mutate_paid(
            caller,
            action="content.generate_copy",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, drafted: generation.keep_copy(uow, command, drafted),
            result_type=CopyResult,
        )

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
        kit = await self._uow.read(caller, lambda uow: brand_kits.find_brand_kit(uow, brand_kit))
        return copy.check(copy_fields, spec, brand_kits.brand_rules(kit), rewrite=rewrite)

    # -------------------------------------------------------------------------------------- creatives

    async def generate_image(
        self,
        caller: Caller,
        command: GenerateImage,
        *,
        idempotency_key: str | None = None,
        sampled: Sampled | None = None,
    ) -> tuple[CreativeResult, bytes]:
        """A PNG at the placement's exact size, kept in the library; returns it with its bytes."""
        spec = self._specs.image(command.placement)
        rendered: list[bytes] = []

        async def prepare() -> generation.Rendered:
            inputs = await self._inputs(caller, command.brand_kit)
            image = await generation.render_image(command, spec=spec, inputs=inputs, specs=self._specs, sampled=sampled)
            rendered.append(image.data)
            return image

        result = await self._uow.mutate_paid(
            caller,
            action="content.generate_image",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, image: generation.keep_creative(
                uow,
                image,
                kind="image",
                title=generation.image_title(command),
                channel=spec.channel,
                placement=command.placement,
            ),
            result_type=CreativeResult,
        )
        if rendered:
            return result, rendered[0]
        # A replay: the PNG is the one the first call stored.
        return result, await self._uow.read(caller, lambda uow: library.current_file(uow, result.asset.id))

    async def generate_video(
        self,
        caller: Caller,
        command: GenerateVideo,
        *,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
        sampled: Sampled | None = None,
    ) -> CreativeResult:
        """An H.264 MP4 for the placement (from a storyboard, or hook → benefit → CTA from the brief)."""
        spec = self._specs.video(command.placement)
        generation.check_video(command, spec)

        async def prepare() -> generation.Rendered:
            inputs = await self._inputs(caller, command.brand_kit)
            return await generation.render_video(
                command, spec=spec, inputs=inputs, specs=self._specs, sampled=sampled, progress=progress
            )

        return await self._uow.mutate_paid(
            caller,
            action="content.generate_video",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, video: generation.keep_creative(
                uow,
                video,
                kind="video",
                title=generation.video_title(command),
                channel=spec.channel,
                placement=command.placement,
            ),
            result_type=CreativeResult,
        )

    def use_design_source(self, source: DesignSource) -> None:
        """Export designs with ``source`` (the integrations context's, wired by the composition root)."""
        self._design_source = source

    async def import_design(
        self, caller: Caller, command: ImportDesign, *, idempotency_key: str | None = None
    ) -> CreativeResult:
        """A connected platform's design as a PNG library asset (a changed design: its next version, back to draft)."""
        source = self._design_source
        if source is None:
            raise ValidationFailed(
                "This deployment imports no designs (no design platform is wired in).", field="platform"
            )

        async def prepare() -> ImportedDesign:
            return await source(caller, command.platform, command.design_id)

        return await self._uow.mutate_paid(
            caller,
            action="content.import_design",
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=lambda uow, design: design_import.keep_design(uow, command, design),
            result_type=CreativeResult,
        )

    def use_brand_push(self, push: BrandPush) -> None:
        """Send brand logos with ``push`` (the integrations context's, wired by the composition root)."""
        self._brand_push = push

    async def push_brand_kit(
        self, caller: Caller, command: PushBrandKit, *, idempotency_key: str | None = None
    ) -> BrandKitPush:
        """A brand kit's logo to a connected design platform; the same logo is sent once (a repeat replays)."""
        push = self._brand_push
        if push is None:
            raise ValidationFailed("This deployment pushes brand kits nowhere (no design platform is wired in).")
        record, logo = await self._uow.read(
            caller, lambda uow: brand_kits.kit_with_logo(uow, name=command.brand_kit or None)
        )
        if record is None:
            raise brand_kits.brand_kit_not_found(command.brand_kit)
        if logo is None:
            raise ValidationFailed(
                f"Brand kit '{record.name}' has no logo to push.",
                field="brand_kit",
                hint="Add one with content_set_brand_kit (logo_png_base64).",
            )
        kit_name, sha = record.name, record.logo_sha256
        # One logo reaches a platform once, even when agents push it concurrently without a key of their own.
        key = idempotency_key or f"brand-logo:{command.platform}:{kit_name}:{sha}"[:255]

        async def prepare() -> str:
            return await push(caller, command.platform, logo, f"{kit_name} logo")

        async def work(uow: UnitOfWork, asset_id: str) -> BrandKitPush:
            uow.audit(
                "content.push_brand_kit",
                target_type="brand_kit",
                target_id=kit_name[:40],
                changes={"platform": command.platform, "logo_asset_id": asset_id},
            )
            return BrandKitPush(
                platform=command.platform, brand_kit=kit_name, logo_asset_id=asset_id, colours_pushed=False
            )

        return await self._uow.mutate_paid(
            caller,
            action="content.push_brand_kit",
            arguments=command,
            idempotency_key=key,
            prepare=prepare,
            work=work,
            result_type=BrandKitPush,
        )

    async def file_with_type(self, caller: Caller, sha256: str) -> tuple[bytes, str]:
        """A stored file's bytes and MIME type (images, videos, logos)."""
        return await self._uow.read(caller, lambda uow: library.file_with_type(uow, sha256))

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
        self, caller: Caller, command: DecideAsset, *, idempotency_key: str | None = None
    ) -> AssetView:
        """submit / approve / reject an asset, recording who decided (its generator cannot approve it)."""
        return await self._uow.mutate(
            caller,
            action=f"content.{command.decision}_asset",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: library.decide(uow, command),
            result_type=AssetView,
        )

    async def approved_assets(self, caller: Caller, asset_ids: list[str]) -> dict[str, bool]:
        """Whether each asset is approved (campaign activation accepts only approved assets)."""
        return await self._uow.read(caller, lambda uow: library.approved(uow, asset_ids))

    async def approved_copy(self, caller: Caller, asset_id: str, *, channel: str | None = None) -> ApprovedCopy:
        """An approved copy asset's current fields, for another context to send (an email platform); refused when
        the asset is not copy, is copy for another ``channel``, or is not approved (ComplianceBlocked)."""
        return await self._uow.read(caller, lambda uow: library.approved_copy(uow, asset_id, channel=channel))

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
        choice = await self._text_choice(caller)
        return await analysis.classify(choice, text=text, intents=intents, topics=topics, sampled=sampled)

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
        choice = await self._text_choice(caller)
        return await analysis.summarize(
            choice, text=text, max_sentences=max_sentences, max_chars=max_chars, sampled=sampled
        )

    async def extract_fields(
        self, caller: Caller, *, text: str, schema: dict[str, Any], sampled: Sampled | None = None
    ) -> ExtractionView:
        """Fields of a JSON schema found in a text (never invented)."""
        choice = await self._text_choice(caller)
        return await analysis.extract(choice, text=text, schema=schema, sampled=sampled)

    async def analyze_interaction(self, caller: Caller, text: str) -> InteractionSignals:
        """Intent and sentiment for CRM's interaction log: the tenant's API model, else (or on failure) local."""
        try:
            choice = await self._text_choice(caller)
            if choice.kind in ai.API_PROVIDERS:
                view = await analysis.classify(choice, text=text, intents=None, topics=None, sampled=None)
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

        async def work(uow: UnitOfWork) -> AiSettingsView:
            return (await ai.setup(uow, deployment=self._deployment, store=self._credentials)).view

        return await self._uow.read(caller, work)

    async def set_ai_provider(
        self, caller: Caller, command: SetAiProvider, *, idempotency_key: str | None = None
    ) -> AiSettingsView:
        """Choose the tenant's text and image providers (and store an API key, sealed)."""
        return await self._uow.mutate(
            caller,
            action="content.set_ai_provider",
            arguments=command,
            idempotency_key=idempotency_key,
            work=lambda uow: ai.store_settings(uow, command, deployment=self._deployment, store=self._credentials),
            result_type=AiSettingsView,
        )

"""Generation use cases: copy variants, image and video creatives, from the brief to library assets.

Model calls and rendering happen before the transaction; the assets, the ``content_generations`` usage (one
per asset) and the token counters are written in one.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from promptsales.domain_core.content import repository as repo
from promptsales.domain_core.content.dto import AssetView, CopyResult, CreativeResult, Usage
from promptsales.domain_core.content.model.brand_rules import BrandRules
from promptsales.domain_core.content.model.channel_specs import ChannelSpecs
from promptsales.domain_core.content.service import brand_kits, copy, creatives, library
from promptsales.domain_core.content.service.ai import LOCAL, AiProviders, Sampled
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import ValidationFailed

Progress = Callable[[int, int], Coroutine[Any, Any, None]]


class Generator:
    """Writes and renders for one process: the unit-of-work factory, the channel specs and the providers."""

    def __init__(self, uow: UnitOfWorkFactory, specs: ChannelSpecs, ai: AiProviders) -> None:
        self._uow = uow
        self._specs = specs
        self._ai = ai

    async def kit(self, caller: Caller, name: str | None) -> tuple[Any, bytes | None]:
        """The named (or default) brand kit and its logo bytes."""

        async def work(uow: UnitOfWork) -> tuple[Any, bytes | None]:
            record = await brand_kits.find_brand_kit(uow, name)
            logo = None
            if record is not None and record.logo_sha256:
                blob = await repo.blob(uow.session, uow.tenant_id, record.logo_sha256)
                logo = blob.data if blob is not None else None
            return record, logo

        return await self._uow.read(caller, work)

    async def copy(
        self,
        caller: Caller,
        *,
        brief: str,
        channel: str,
        format: str,
        language: str = "en",
        tone: str = "professional",
        variants: int = 3,
        brand_kit: str | None = None,
        idempotency_key: str | None = None,
        sampled: Sampled | None = None,
    ) -> CopyResult:
        """N variants within the channel spec, linted, each kept as a draft asset (one generation each)."""
        spec = self._specs.format(channel, format)
        kit, _ = await self.kit(caller, brand_kit)
        rules = copy.rules_for_brief(brief, spec, brand_kits.brand_rules(kit))
        choice = await self._ai.text_choice(caller)
        if choice.kind == "local":
            drafts = copy.local_variants(brief, spec, language=language, tone=tone, variants=variants)
            usage = LOCAL
        else:
            request = copy.copy_request(
                brief, spec, rules, voice=kit.voice if kit else "", language=language, tone=tone, variants=variants
            )
            answer = await self._ai.complete(choice, request, sampled=sampled)
            drafts = copy.parse_variants(answer, spec, variants)
            usage = Usage(
                provider=answer.provider,
                model=answer.model,
                input_tokens=answer.input_tokens,
                output_tokens=answer.output_tokens,
            )
        generated, fixed = copy.result(spec, language, drafts, rules, usage)

        async def work(uow: UnitOfWork) -> CopyResult:
            variants_out = []
            for index, (variant, fields) in enumerate(zip(generated.variants, fixed, strict=True)):
                asset = await library.create_asset(
                    uow,
                    kind="copy",
                    title=_title(fields, brief),
                    channel=spec.channel,
                    target=spec.format,
                    brand_kit_id=kit.id if kit else None,
                    body={
                        "fields": fields,
                        "lint": variant.lint.model_dump(mode="json"),
                        "brief": brief,
                        "language": language,
                        "tone": tone,
                    },
                    usage=usage if index == 0 else Usage(provider=usage.provider, model=usage.model),
                )
                variants_out.append(variant.model_copy(update={"asset_id": asset.id}))
            _meter_tokens(uow, usage)
            return generated.model_copy(update={"variants": variants_out})

        return await self._uow.mutate(
            caller,
            action="content.generate_copy",
            arguments={
                "brief": brief,
                "channel": channel,
                "format": format,
                "language": language,
                "tone": tone,
                "variants": variants,
                "brand_kit": brand_kit,
            },
            idempotency_key=idempotency_key,
            work=work,
            result_type=CopyResult,
        )

    async def _creative_text(
        self, caller: Caller, brief: str, *, language: str, variant: int, sampled: Sampled | None
    ) -> tuple[creatives.CreativeText, Usage]:
        choice = await self._ai.text_choice(caller)
        if choice.kind == "local":
            return creatives.local_text(brief, language=language, variant=variant), LOCAL
        spec = self._specs.format("meta", "feed")  # headline / body / CTA words like a feed ad's
        request = copy.copy_request(
            brief, spec, BrandRules(), voice="", language=language, tone="professional", variants=1
        )
        answer = await self._ai.complete(choice, request, sampled=sampled)
        draft = copy.parse_variants(answer, spec, 1)[0]
        text = creatives.CreativeText(
            headline=_first(draft.get("headline")) or brief[:40],
            body=_first(draft.get("primary_text")) or None,
            call_to_action=None,
        )
        return text, Usage(
            provider=answer.provider,
            model=answer.model,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
        )

    async def image(
        self,
        caller: Caller,
        *,
        brief: str,
        placement: str,
        brand_kit: str | None = None,
        language: str = "en",
        variant: int = 0,
        idempotency_key: str | None = None,
        sampled: Sampled | None = None,
    ) -> tuple[CreativeResult, bytes]:
        """A PNG at the placement's exact size, kept in the library; returns it with its bytes."""
        spec = self._specs.image(placement)
        kit, logo = await self.kit(caller, brand_kit)
        model, model_name = await self._ai.image_provider(caller)
        if model is not None:
            png, drawn_by = await creatives.model_image(model, _image_prompt(brief, kit), spec)
            usage = Usage(provider="openai", model=drawn_by)
        else:
            text, usage = await self._creative_text(caller, brief, language=language, variant=variant, sampled=sampled)
            png = await creatives.offline_image(
                text,
                spec,
                colors=list(kit.colors) if kit else [],
                logo=logo,
                brand_name=kit.name if kit else None,
                variant=variant,
            )
            usage = usage if usage.provider != "local" else Usage(provider="local", model=model_name)

        result = await self._keep(
            caller,
            kind="image",
            title=f"{brief[:80]} ({placement})",
            channel=spec.channel,
            placement=placement,
            kit=kit,
            body={"brief": brief, "placement": placement, "width": spec.width, "height": spec.height},
            usage=usage,
            blob=(png, "image/png"),
            arguments={"brief": brief, "brand_kit": brand_kit, "variant": variant, "language": language},
            idempotency_key=idempotency_key,
            describe=lambda asset: CreativeResult(
                asset=asset,
                placement=placement,
                width=spec.width,
                height=spec.height,
                mime_type="image/png",
                bytes=len(png),
                usage=usage,
            ),
        )
        return result, png

    async def video(
        self,
        caller: Caller,
        *,
        placement: str,
        brief: str | None = None,
        storyboard: list[dict[str, Any]] | None = None,
        duration_seconds: float | None = None,
        brand_kit: str | None = None,
        language: str = "en",
        idempotency_key: str | None = None,
        progress: Progress | None = None,
        sampled: Sampled | None = None,
    ) -> CreativeResult:
        """An H.264 MP4 for the placement (from a storyboard, or hook → benefit → CTA from the brief)."""
        if not brief and not storyboard:
            raise ValidationFailed("Give a brief or a storyboard for the video.", field="brief")
        spec = self._specs.video(placement)
        seconds = creatives.check_duration(duration_seconds, spec)
        source = brief or " ".join(str(s.get("headline") or "") for s in storyboard or [])
        kit, logo = await self.kit(caller, brand_kit)
        text, usage = await self._creative_text(caller, source, language=language, variant=0, sampled=sampled)
        scenes = creatives.scenes_from(storyboard, text, seconds)
        mp4, probe = await creatives.offline_video(
            scenes, spec, colors=list(kit.colors) if kit else [], logo=logo, progress=progress
        )

        return await self._keep(
            caller,
            kind="video",
            title=f"{source[:80]} ({placement})",
            channel=spec.channel,
            placement=placement,
            kit=kit,
            body={
                "brief": brief,
                "placement": placement,
                "scenes": [s.__dict__ for s in scenes],
                "codec": probe.codec,
            },
            usage=usage,
            blob=(mp4, "video/mp4"),
            arguments={
                "brief": brief,
                "storyboard": storyboard,
                "placement": placement,
                "duration_seconds": seconds,
                "brand_kit": brand_kit,
            },
            idempotency_key=idempotency_key,
            describe=lambda asset: CreativeResult(
                asset=asset,
                placement=placement,
                width=probe.width,
                height=probe.height,
                mime_type="video/mp4",
                bytes=len(mp4),
                duration_seconds=probe.duration_seconds,
                frame_count=probe.frame_count,
                codec=probe.codec,
                usage=usage,
            ),
        )

    async def _keep(
        self,
        caller: Caller,
        *,
        kind: str,
        title: str,
        channel: str,
        placement: str,
        kit: Any,
        body: dict[str, Any],
        usage: Usage,
        blob: tuple[bytes, str],
        arguments: dict[str, Any],
        idempotency_key: str | None,
        describe: Callable[[AssetView], CreativeResult],
    ) -> CreativeResult:
        """Store a rendered file as a draft asset (one generation, its tokens) and describe it."""

        async def work(uow: UnitOfWork) -> CreativeResult:
            asset = await library.create_asset(
                uow,
                kind=kind,
                title=title,
                channel=channel,
                target=placement,
                brand_kit_id=kit.id if kit else None,
                body=body,
                usage=usage,
                blob=blob,
            )
            _meter_tokens(uow, usage)
            return describe(asset)

        return await self._uow.mutate(
            caller,
            action=f"content.generate_{kind}",
            arguments={"placement": placement, **arguments},
            idempotency_key=idempotency_key,
            work=work,
            result_type=CreativeResult,
        )


def _title(fields: dict[str, Any], brief: str) -> str:
    for value in fields.values():
        first = _first(value)
        if first:
            return first[:200]
    return brief[:200]


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def _image_prompt(brief: str, kit: Any) -> str:
    colors = ", ".join(kit.colors) if kit is not None and kit.colors else "the brand's colours"
    return f"Advertising visual, no text, brand colours {colors}. {brief}"


def _meter_tokens(uow: UnitOfWork, usage: Usage) -> None:
    """Model tokens are recorded with the business context's counters (tracked, not limited by any plan)."""
    if usage.input_tokens:
        uow.meter("llm_input_tokens", usage.input_tokens)
    if usage.output_tokens:
        uow.meter("llm_output_tokens", usage.output_tokens)

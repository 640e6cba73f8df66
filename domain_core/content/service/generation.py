"""Generation use cases: copy variants, image and video creatives, from the brief to library assets.

Each comes in two halves, so the facade can claim the idempotency key before anything is paid for
(``UnitOfWorkFactory.mutate_paid``): ``draft_copy`` / ``render_image`` / ``render_video`` do the paid work (model
calls, rendering) outside any transaction; ``keep_copy`` / ``keep_creative`` write the assets, the
``content_generations`` usage (one per asset) and the token counters in one.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from promptsales.domain_core.content.commands import GenerateCopy, GenerateImage, GenerateVideo
from promptsales.domain_core.content.dto import CopyResult, CreativeResult, Usage
from promptsales.domain_core.content.model.brand_rules import BrandRules
from promptsales.domain_core.content.model.channel_specs import ChannelSpecs, FormatSpec, ImageSpec, VideoSpec
from promptsales.domain_core.content.providers.clients import ProviderClients
from promptsales.domain_core.content.service import brand_kits, copy, creatives, library
from promptsales.domain_core.content.service.ai import (
    LOCAL,
    Deployment,
    Sampled,
    TextChoice,
    Writers,
    complete,
    writers,
)
from promptsales.domain_core.content.tables import BrandKitRecord
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ValidationFailed

Progress = Callable[[int, int], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a generation reads before it pays: the brand kit (and its logo) and the tenant's writers."""

    kit: BrandKitRecord | None
    logo: bytes | None
    writers: Writers


@dataclass(frozen=True, slots=True)
class DraftedCopy:
    """Finished variants (no asset ids yet), their fixed fields, and the kit they were written for."""

    result: CopyResult
    fields: list[dict[str, Any]]
    kit_id: str | None


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered file and what to record about it."""

    data: bytes
    mime_type: str
    usage: Usage
    kit_id: str | None
    body: dict[str, Any]
    width: int
    height: int
    duration_seconds: float | None = None
    frame_count: int | None = None
    codec: str | None = None


async def read_inputs(
    uow: UnitOfWork,
    *,
    brand_kit: str | None,
    deployment: Deployment,
    store: CredentialStore,
    clients: ProviderClients,
) -> Inputs:
    """The named (or default) brand kit with its logo, and the tenant's writers, in one read."""
    kit, logo = await brand_kits.kit_with_logo(uow, name=brand_kit)
    return Inputs(kit, logo, await writers(uow, deployment=deployment, store=store, clients=clients))


def usage_of(answer: Any) -> Usage:
    """A provider answer's cost."""
    return Usage(
        provider=answer.provider,
        model=answer.model,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
    )


# ------------------------------------------------------------------------------------------------- copy


async def draft_copy(
    command: GenerateCopy, *, spec: FormatSpec, inputs: Inputs, sampled: Sampled | None
) -> DraftedCopy:
    """Write the variants (local writer or the tenant's model), then fix and lint each: the paid half."""
    kit = inputs.kit
    rules = copy.rules_for_brief(command.brief, spec, brand_kits.brand_rules(kit))
    choice = inputs.writers.text()
    if choice.kind == "local":
        drafts = copy.local_variants(
            command.brief, spec, language=command.language, tone=command.tone, variants=command.variants
        )
        usage = LOCAL
    else:
        request = copy.copy_request(
            command.brief,
            spec,
            rules,
            voice=kit.voice if kit else "",
            language=command.language,
            tone=command.tone,
            variants=command.variants,
        )
        answer = await complete(choice, request, sampled=sampled)
        drafts = copy.parse_variants(answer, spec, command.variants)
        usage = usage_of(answer)
    result, fields = copy.result(spec, command.language, drafts, rules, usage)
    return DraftedCopy(result=result, fields=fields, kit_id=kit.id if kit else None)


async def keep_copy(uow: UnitOfWork, command: GenerateCopy, drafted: DraftedCopy) -> CopyResult:
    """Each variant as a draft asset (the first carries the tokens), and the tokens metered."""
    generated, usage = drafted.result, drafted.result.usage
    variants_out = []
    for index, (variant, fields) in enumerate(zip(generated.variants, drafted.fields, strict=True)):
        asset = await library.create_asset(
            uow,
            kind="copy",
            title=_title(fields, command.brief),
            channel=generated.channel,
            target=generated.format,
            brand_kit_id=drafted.kit_id,
            body={
                "fields": fields,
                "lint": variant.lint.model_dump(mode="json"),
                "brief": command.brief,
                "language": command.language,
                "tone": command.tone,
            },
            usage=usage if index == 0 else Usage(provider=usage.provider, model=usage.model),
        )
        variants_out.append(variant.model_copy(update={"asset_id": asset.id}))
    meter_tokens(uow, usage)
    return generated.model_copy(update={"variants": variants_out})


# -------------------------------------------------------------------------------------------- creatives


async def creative_text(
    brief: str, *, language: str, variant: int, choice: TextChoice, specs: ChannelSpecs, sampled: Sampled | None
) -> tuple[creatives.CreativeText, Usage]:
    """The words on a creative: the local writer's, or the tenant's model's (written like a feed ad)."""
    if choice.kind == "local":
        return creatives.local_text(brief, language=language, variant=variant), LOCAL
    spec = specs.format("meta", "feed")  # headline / body / CTA words like a feed ad's
    request = copy.copy_request(brief, spec, BrandRules(), voice="", language=language, tone="professional", variants=1)
    answer = await complete(choice, request, sampled=sampled)
    draft = copy.parse_variants(answer, spec, 1)[0]
    text = creatives.CreativeText(
        headline=_first(draft.get("headline")) or brief[:40],
        body=_first(draft.get("primary_text")) or None,
        call_to_action=None,
    )
    return text, usage_of(answer)


async def render_image(
    command: GenerateImage, *, spec: ImageSpec, inputs: Inputs, specs: ChannelSpecs, sampled: Sampled | None
) -> Rendered:
    """A PNG at the placement's exact size: drawn by the tenant's image model, or composed offline."""
    kit = inputs.kit
    model, model_name = inputs.writers.image()
    if model is not None:
        png, drawn_by = await creatives.model_image(model, _image_prompt(command.brief, kit), spec)
        usage = Usage(provider="openai", model=drawn_by)
    else:
        text, usage = await creative_text(
            command.brief,
            language=command.language,
            variant=command.variant,
            choice=inputs.writers.text(),
            specs=specs,
            sampled=sampled,
        )
        png = await creatives.offline_image(
            text,
            spec,
            colors=list(kit.colors) if kit else [],
            logo=inputs.logo,
            brand_name=kit.name if kit else None,
            variant=command.variant,
        )
        usage = usage if usage.provider != "local" else Usage(provider="local", model=model_name)
    return Rendered(
        data=png,
        mime_type="image/png",
        usage=usage,
        kit_id=kit.id if kit else None,
        body={"brief": command.brief, "placement": command.placement, "width": spec.width, "height": spec.height},
        width=spec.width,
        height=spec.height,
    )


def check_video(command: GenerateVideo, spec: VideoSpec) -> float:
    """The video's length, once the command is known to be renderable (checked before anything is paid)."""
    if not command.brief and not command.storyboard:
        raise ValidationFailed("Give a brief or a storyboard for the video.", field="brief")
    seconds = creatives.check_duration(command.duration_seconds, spec)
    if not command.storyboard:
        creatives.check_brief_video(seconds)
    return seconds


async def render_video(
    command: GenerateVideo,
    *,
    spec: VideoSpec,
    inputs: Inputs,
    specs: ChannelSpecs,
    sampled: Sampled | None,
    progress: Progress | None,
) -> Rendered:
    """An H.264 MP4 for the placement (from the storyboard, or hook → benefit → CTA from the brief)."""
    seconds = check_video(command, spec)
    source = command.brief or " ".join(scene.headline for scene in command.storyboard or [])
    kit = inputs.kit
    text, usage = await creative_text(
        source, language=command.language, variant=0, choice=inputs.writers.text(), specs=specs, sampled=sampled
    )
    scenes = creatives.scenes_from(command.storyboard, text, seconds)
    mp4, probe = await creatives.offline_video(
        scenes, spec, colors=list(kit.colors) if kit else [], logo=inputs.logo, progress=progress
    )
    return Rendered(
        data=mp4,
        mime_type="video/mp4",
        usage=usage,
        kit_id=kit.id if kit else None,
        body={
            "brief": command.brief,
            "placement": command.placement,
            "scenes": [scene.__dict__ for scene in scenes],
            "codec": probe.codec,
        },
        width=probe.width,
        height=probe.height,
        duration_seconds=probe.duration_seconds,
        frame_count=probe.frame_count,
        codec=probe.codec,
    )


async def keep_creative(
    uow: UnitOfWork, rendered: Rendered, *, kind: str, title: str, channel: str, placement: str
) -> CreativeResult:
    """Store a rendered file as a draft asset (one generation, its tokens) and describe it."""
    asset = await library.create_asset(
        uow,
        kind=kind,
        title=title,
        channel=channel,
        target=placement,
        brand_kit_id=rendered.kit_id,
        body=rendered.body,
        usage=rendered.usage,
        blob=(rendered.data, rendered.mime_type),
    )
    meter_tokens(uow, rendered.usage)
    return CreativeResult(
        asset=asset,
        placement=placement,
        width=rendered.width,
        height=rendered.height,
        mime_type=rendered.mime_type,
        bytes=len(rendered.data),
        duration_seconds=rendered.duration_seconds,
        frame_count=rendered.frame_count,
        codec=rendered.codec,
        usage=rendered.usage,
    )


def image_title(command: GenerateImage) -> str:
    """An image asset's title: its brief and placement."""
    return f"{command.brief[:80]} ({command.placement})"


def video_title(command: GenerateVideo) -> str:
    """A video asset's title: its brief (or first scene) and placement."""
    source = command.brief or " ".join(scene.headline for scene in command.storyboard or [])
    return f"{source[:80]} ({command.placement})"


# ------------------------------------------------------------------------------------------------ helpers


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


def _image_prompt(brief: str, kit: BrandKitRecord | None) -> str:
    colors = ", ".join(kit.colors) if kit is not None and kit.colors else "the brand's colours"
    return f"Advertising visual, no text, brand colours {colors}. {brief}"


def meter_tokens(uow: UnitOfWork, usage: Usage) -> None:
    """Model tokens are recorded with the business context's counters (tracked, not limited by any plan)."""
    if usage.input_tokens:
        uow.meter("llm_input_tokens", usage.input_tokens)
    if usage.output_tokens:
        uow.meter("llm_output_tokens", usage.output_tokens)

"""Image and video creatives: words from the brief, rendered offline (Pillow, H.264) or drawn by an image model.

Rendering is CPU-bound, so it runs in a worker thread; the event loop keeps serving other calls meanwhile.
"""

import asyncio
import io
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from PIL import Image

from promptsales.domain_core.content.commands import StoryboardScene
from promptsales.domain_core.content.model.channel_specs import ImageSpec, VideoSpec
from promptsales.domain_core.content.model.copywriter import FieldPlan, write_copy
from promptsales.domain_core.content.model.text_measure import graphemes
from promptsales.domain_core.content.providers.base import ImageProvider
from promptsales.domain_core.content.render.errors import RenderError
from promptsales.domain_core.content.render.image import Creative, render_image
from promptsales.domain_core.content.render.layout import Palette, SafeZone
from promptsales.domain_core.content.render.video import (
    Scene,
    VideoProbe,
    probe_video,
    render_video,
    storyboard_from_brief,
)
from promptsales.domain_core.shared.errors import ValidationFailed

Progress = Callable[[int, int], Coroutine[Any, Any, None]]
# Words on a creative must be legible at a glance: short headline, one line of body, a short button.
HEADLINE_MAX, BODY_MAX, CTA_MAX = 40, 90, 20
VIDEO_FPS = 24
# Hook, benefit and call to action each need half a second at least to be read.
BRIEF_VIDEO_MIN_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class CreativeText:
    """The words a creative shows."""

    headline: str
    body: str | None
    call_to_action: str | None


def text_plans() -> list[FieldPlan]:
    """Field plans for the words on a creative (counted in graphemes)."""
    return [
        FieldPlan(name="headline", max_length=HEADLINE_MAX, measure=graphemes, kind="headline"),
        FieldPlan(name="body", max_length=BODY_MAX, measure=graphemes, kind="body"),
        FieldPlan(name="call_to_action", max_length=CTA_MAX, measure=graphemes, kind="cta"),
    ]


def local_text(brief: str, *, language: str, variant: int) -> CreativeText:
    """The creative's words from the offline writer."""
    drafts = write_copy(brief, text_plans(), language=language, tone="professional", variants=variant + 1)
    chosen = drafts[min(variant, len(drafts) - 1)]
    return CreativeText(
        str(chosen["headline"]), str(chosen.get("body") or "") or None, str(chosen.get("call_to_action") or "") or None
    )


def palette_for(colors: list[str]) -> Palette:
    """The brand's colours as a legible palette (default colours without a kit)."""
    return Palette.from_brand(colors or ["#1F4FFF", "#FFB400"])


def safe_zone_of(spec: ImageSpec | VideoSpec) -> SafeZone | None:
    """The placement's safe zone, if the platform defines one."""
    zone = getattr(spec, "safe_zone", None)
    if zone is None:
        return None
    return SafeZone(top_pct=zone.top_pct, bottom_pct=zone.bottom_pct, side_pct=zone.side_pct)


async def offline_image(
    text: CreativeText, spec: ImageSpec, *, colors: list[str], logo: bytes | None, brand_name: str | None, variant: int
) -> bytes:
    """A PNG of the placement's exact size, composed from the brand kit."""
    creative = Creative(
        headline=text.headline,
        body=text.body,
        call_to_action=text.call_to_action,
        palette=palette_for(colors),
        logo_png=logo,
        brand_name=brand_name,
    )
    try:
        return await asyncio.to_thread(
            render_image, creative, width=spec.width, height=spec.height, safe_zone=safe_zone_of(spec), variant=variant
        )
    except RenderError as exc:
        raise ValidationFailed(f"The image could not be rendered: {exc}.", field="brand_kit") from exc


async def model_image(provider: ImageProvider, prompt: str, spec: ImageSpec) -> tuple[bytes, str]:
    """An image model's picture, scaled and centre-cropped to the placement's exact size."""
    drawn = await provider.generate_image(prompt, width=spec.width, height=spec.height)
    return await asyncio.to_thread(_cover, drawn.png, spec.width, spec.height), drawn.model


def _cover(png: bytes, width: int, height: int) -> bytes:
    with Image.open(io.BytesIO(png)) as source:
        image = source.convert("RGB")
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    out = io.BytesIO()
    resized.crop((left, top, left + width, top + height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def check_duration(seconds: float | None, spec: VideoSpec) -> float:
    """The video length to render: asked for, or the placement's recommendation, within its bounds."""
    chosen = seconds if seconds is not None else (spec.recommended_seconds or min(15.0, spec.max_seconds or 15.0))
    low, high = spec.min_seconds or 1.0, spec.max_seconds or 60.0
    high = min(high, 60.0)  # offline rendering is capped at a minute per video
    if not low <= chosen <= high:
        raise ValidationFailed(
            f"duration_seconds must be between {low:g} and {high:g} for {spec.placement}; got {chosen:g}.",
            field="duration_seconds",
        )
    return chosen


def check_brief_video(seconds: float) -> None:
    """A video made from a brief has hook, benefit and call to action: each needs time to be read."""
    if seconds < BRIEF_VIDEO_MIN_SECONDS:
        raise ValidationFailed(
            f"A video made from a brief has three scenes and needs at least {BRIEF_VIDEO_MIN_SECONDS:g} s; "
            f"got {seconds:g}.",
            field="duration_seconds",
            hint="Ask for a longer video, or pass a storyboard with fewer scenes.",
        )


def scenes_from(storyboard: list[StoryboardScene] | None, text: CreativeText, seconds: float) -> list[Scene]:
    """The storyboard given (scene seconds rescaled to the length), or hook → benefit → call to action."""
    if not storyboard:
        check_brief_video(seconds)
        return storyboard_from_brief(text.headline, text.body, text.call_to_action, seconds)
    total = sum(scene.seconds for scene in storyboard)
    return [
        Scene(
            headline=scene.headline,
            body=scene.body or None,
            call_to_action=scene.call_to_action or None,
            seconds=scene.seconds * seconds / total,
        )
        for scene in storyboard
    ]


async def offline_video(
    scenes: list[Scene], spec: VideoSpec, *, colors: list[str], logo: bytes | None, progress: Progress | None
) -> tuple[bytes, VideoProbe]:
    """An H.264 MP4 at the placement's size, with progress reported as frames are encoded."""
    loop = asyncio.get_running_loop()

    def report(done: int, total: int) -> None:
        if progress is not None:
            asyncio.run_coroutine_threadsafe(progress(done, total), loop)

    width, height = spec.width, spec.height
    try:
        mp4 = await asyncio.to_thread(
            render_video,
            scenes,
            width=width,
            height=height,
            palette=palette_for(colors),
            logo_png=logo,
            fps=VIDEO_FPS,
            progress=report,
            safe_zone=safe_zone_of(spec),
        )
    except RenderError as exc:
        raise ValidationFailed(f"The video could not be rendered: {exc}.", field="storyboard") from exc
    return mp4, await asyncio.to_thread(probe_video, mp4)

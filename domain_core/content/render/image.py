"""PNG creatives: brand colours, logo, headline, body and call to action, composed offline with Pillow.

CPU-bound (tens to a few hundred ms per image): async callers should run it in a worker thread.
"""

import io
from dataclasses import KW_ONLY, dataclass

from PIL import Image, ImageDraw

from promptsales.domain_core.content.render.color import Palette, contrast_ratio, mix
from promptsales.domain_core.content.render.composition import PlacedText, Plan, plan_creative
from promptsales.domain_core.content.render.errors import RenderError
from promptsales.domain_core.content.render.layout import Box, SafeZone, check_canvas, decode_logo
from promptsales.domain_core.content.render.text import FontFace, default_face, draw_text

__all__ = ["Creative", "RenderError", "compose", "plan", "render_image"]

_LIMITS = {"headline": 300, "body": 1000, "call_to_action": 60, "brand_name": 80}
# Shapes are drawn on a mask this many times larger, then averaged down: Pillow's own shapes are aliased.
_SUPERSAMPLE = 4
# How far the background gradient leans towards the secondary colour: a hint of brand, not a busy backdrop.
_GRADIENT_STRENGTH = 0.10


@dataclass(frozen=True)
class Creative:
    """The copy and brand assets of one creative; only ``headline`` and ``palette`` are required."""

    headline: str
    _: KW_ONLY
    body: str | None = None
    call_to_action: str | None = None
    palette: Palette
    logo_png: bytes | None = None
    brand_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.headline, str) or not self.headline.strip():
            raise RenderError("headline: must be non-empty text")
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise RenderError(f"{name}: expected text, got {type(value).__name__}")
            if value is not None and len(value) > limit:
                raise RenderError(f"{name}: at most {limit} characters, got {len(value)}")
        if not isinstance(self.palette, Palette):
            raise RenderError("palette: expected a Palette")
        if self.logo_png is not None and not isinstance(self.logo_png, bytes):
            raise RenderError("logo: expected PNG bytes")


def plan(
    creative: Creative,
    *,
    width: int,
    height: int,
    safe_zone: SafeZone | None = None,
    variant: int = 0,
    font: FontFace | None = None,
) -> Plan:
    """The layout :func:`render_image` would draw, for inspection (where is the logo, the button, ...)."""
    check_canvas(width, height)
    logo = decode_logo(creative.logo_png) if creative.logo_png is not None else None
    return _plan(creative, width, height, safe_zone, variant, font, logo)


def _plan(
    creative: Creative,
    width: int,
    height: int,
    safe_zone: SafeZone | None,
    variant: int,
    font: FontFace | None,
    logo: Image.Image | None,
) -> Plan:
    if isinstance(variant, bool) or not isinstance(variant, int) or variant < 0:
        raise RenderError(f"variant: expected a non-negative integer, got {variant!r}")
    return plan_creative(
        width=width,
        height=height,
        headline=creative.headline,
        body=creative.body,
        call_to_action=creative.call_to_action,
        logo_size=logo.size if logo is not None else None,
        brand_name=creative.brand_name,
        safe_zone=safe_zone,
        variant=variant,
        face=font or default_face(),
    )


def _background(plan: Plan, palette: Palette) -> Image.Image:
    start = palette.background
    end = mix(start, palette.secondary, _GRADIENT_STRENGTH)
    if contrast_ratio(palette.legible_text, end) < 4.5:
        end = start
    size = (plan.width, plan.height)
    if end == start:
        return Image.new("RGB", size, start)
    ramp = Image.linear_gradient("L")
    if plan.gradient == "horizontal":
        ramp = ramp.transpose(Image.Transpose.ROTATE_90)
    mask = ramp.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _paint(canvas: Image.Image, region: Box, color: str, *, radius: int | None = None, outline: int = 0) -> None:
    """Antialiased ellipse (``radius`` None) or rounded rectangle in ``region``; ``outline`` > 0 draws a ring."""
    visible = region.intersect(Box(0, 0, canvas.width, canvas.height))
    if visible.width <= 0 or visible.height <= 0:
        return
    scale = _SUPERSAMPLE
    mask = Image.new("L", (visible.width * scale, visible.height * scale), 0)
    draw = ImageDraw.Draw(mask)
    bounds = (
        (region.left - visible.left) * scale,
        (region.top - visible.top) * scale,
        (region.right - visible.left) * scale - 1,
        (region.bottom - visible.top) * scale - 1,
    )
    fill = None if outline else 255
    if radius is None:
        draw.ellipse(bounds, fill=fill, outline=255, width=max(1, outline * scale))
    else:
        draw.rounded_rectangle(bounds, radius=radius * scale, fill=fill, outline=255, width=max(1, outline * scale))
    mask = mask.resize((visible.width, visible.height), Image.Resampling.BOX)
    canvas.paste(color, (visible.left, visible.top, visible.right, visible.bottom), mask)


def _text(draw: ImageDraw.ImageDraw, placed: PlacedText, color: str) -> None:
    draw_text(draw, placed.fitted, placed.area.left, placed.area.top, placed.area.width, color, placed.align)


def _draw(plan: Plan, creative: Creative, logo: Image.Image | None) -> Image.Image:
    palette = creative.palette
    canvas = _background(plan, palette)
    if plan.circle is not None:
        x, y, radius = plan.circle
        _paint(canvas, Box(x - radius, y - radius, x + radius, y + radius), palette.accent)
    draw = ImageDraw.Draw(canvas)
    bar = plan.accent_bar
    draw.rectangle((bar.left, bar.top, bar.right - 1, bar.bottom - 1), fill=palette.primary)
    text_color = palette.legible_text
    _text(draw, plan.headline, text_color)
    if plan.body is not None:
        _text(draw, plan.body, text_color)
    if plan.cta is not None and plan.cta_label is not None:
        radius = plan.cta.height // 2
        _paint(canvas, plan.cta, palette.primary, radius=radius)
        if palette.cta_needs_outline:
            # Without 3:1 against the background the button would vanish: outline it in the text colour.
            _paint(canvas, plan.cta, text_color, radius=radius, outline=max(2, plan.cta.height // 18))
        _text(draw, plan.cta_label, palette.on_primary)
    if plan.logo is not None and logo is not None:
        box = plan.logo
        scaled = logo.resize((box.width, box.height), Image.Resampling.LANCZOS)
        canvas.paste(scaled, (box.left, box.top), scaled)
    elif plan.brand_name is not None:
        _text(draw, plan.brand_name, text_color)
    return canvas


def compose(
    creative: Creative,
    *,
    width: int,
    height: int,
    safe_zone: SafeZone | None = None,
    variant: int = 0,
    font: FontFace | None = None,
) -> Image.Image:
    """The creative as an RGB Pillow image (what :func:`render_image` encodes; the video renderer reuses it)."""
    check_canvas(width, height)
    logo = decode_logo(creative.logo_png) if creative.logo_png is not None else None
    return _draw(_plan(creative, width, height, safe_zone, variant, font, logo), creative, logo)


def render_image(
    creative: Creative,
    *,
    width: int,
    height: int,
    safe_zone: SafeZone | None = None,
    variant: int = 0,
    font: FontFace | None = None,
) -> bytes:
    """The creative as PNG bytes, ``width`` x ``height`` px; the same inputs give the same bytes."""
    image = compose(creative, width=width, height=height, safe_zone=safe_zone, variant=variant, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()

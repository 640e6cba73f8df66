"""Where each element of a creative goes: a pure layout plan, computed before anything is drawn.

The content (logo or brand name, headline, accent bar, body, call-to-action button) is stacked in a column
inside the content box (safe zone within default margins): the full content width for portrait and square
canvases, 62% of it for landscape ones, whose other side is left to the accent shape. The accent circle sits
in the canvas corner with the most free space and is sized to touch no content, so text only ever lies on
the background it was contrast-checked against. ``variant`` (mod 4) switches alignment/side and logo corner
(bit 0) and vertical placement/gradient direction (bit 1).
"""

from dataclasses import dataclass, replace
from typing import Literal

from promptsales.domain_core.content.render.layout import Box, SafeZone, content_box, fit_logo
from promptsales.domain_core.content.render.text import Align, FittedText, FontFace, default_face, fit_text

__all__ = ["Orientation", "PlacedText", "Plan", "plan_creative"]

Orientation = Literal["portrait", "landscape", "square"]


@dataclass(frozen=True)
class PlacedText:
    """Fitted text, the column slot it is aligned in (``area``) and the extent it actually covers (``box``)."""

    fitted: FittedText
    area: Box
    box: Box
    align: Align


@dataclass(frozen=True)
class Plan:
    """Every element's position on a ``width`` x ``height`` canvas."""

    width: int
    height: int
    content: Box
    orientation: Orientation
    align: Align
    gradient: Literal["vertical", "horizontal"]
    logo: Box | None
    brand_name: PlacedText | None
    headline: PlacedText
    accent_bar: Box
    body: PlacedText | None
    cta: Box | None
    cta_label: PlacedText | None
    circle: tuple[int, int, int] | None

    def content_boxes(self) -> list[Box]:
        """The boxes that must stay inside the safe zone and clear of decoration."""
        texts = (self.brand_name, self.headline, self.body)
        return [
            *(b for b in (self.logo, self.accent_bar, self.cta) if b is not None),
            *(t.box for t in texts if t is not None),
        ]


def _orientation(width: int, height: int) -> Orientation:
    ratio = width / height
    return "landscape" if ratio >= 1.25 else "portrait" if ratio <= 0.8 else "square"


def _place(fitted: FittedText, area: Box, top: int, align: Align) -> PlacedText:
    offset = {"left": 0, "center": (area.width - fitted.width) // 2, "right": area.width - fitted.width}[align]
    left = area.left + offset
    slot = Box(area.left, top, area.right, top + fitted.height)
    return PlacedText(fitted, slot, Box(left, top, left + fitted.width, top + fitted.height), align)


def _circle(width: int, height: int, boxes: list[Box], gap: int, variant: int) -> tuple[int, int, int] | None:
    short = min(width, height)
    corners = [(width, 0), (0, height), (width, height), (0, 0)]
    shift = variant % 4
    corners = corners[shift:] + corners[:shift]

    def room(corner: tuple[int, int]) -> float:
        return min(box.distance_to(*corner) for box in boxes) - gap

    best = max(corners, key=room)
    radius = min(int(room(best)), round(short * 0.42))
    return (best[0], best[1], radius) if radius >= short * 0.12 else None


def _column(content: Box, orientation: Orientation, flip: bool) -> tuple[Box, Align]:
    if orientation != "landscape":
        return content, "left" if flip else "center"
    width = round(content.width * 0.62)
    left = content.right - width if flip else content.left
    return Box(left, content.top, left + width, content.bottom), "left"


def _header(
    column: Box, short: int, logo_size: tuple[int, int] | None, brand_name: str | None, flip: bool, face: FontFace
) -> tuple[Box | None, PlacedText | None]:
    """The logo, else the brand name, in the column's top corner on the variant's side."""
    if logo_size is not None:
        w, h = fit_logo(logo_size, min(column.width, round(short * 0.30)), max(1, round(short * 0.15)))
        x = column.right - w if flip else column.left
        return Box(x, column.top, x + w, column.top + h), None
    if not brand_name or not brand_name.strip():
        return None, None
    area = Box(column.left, column.top, column.right, column.top + round(short * 0.07))
    fitted = fit_text(
        brand_name,
        round(column.width * 0.6),
        area.height,
        max_size=round(short * 0.055),
        min_size=round(short * 0.028),
        face=face,
        bold=True,
    )
    return None, _place(fitted, area, column.top, "right" if flip else "left")


def _footer(
    column: Box, short: int, call_to_action: str | None, align: Align, face: FontFace
) -> tuple[Box | None, PlacedText | None]:
    """The call-to-action button at the column's foot, as wide as its label needs."""
    if not call_to_action or not call_to_action.strip():
        return None, None
    height = max(12, round(short * 0.10))
    pad_x, pad_y = round(height * 0.55), round(height * 0.2)
    fitted = fit_text(
        call_to_action,
        column.width - 2 * pad_x,
        height - 2 * pad_y,
        max_size=round(height * 0.42),
        min_size=round(short * 0.026),
        face=face,
        bold=True,
    )
    width = min(column.width, max(fitted.width + 2 * pad_x, round(height * 2.6)))
    x = column.left + (column.width - width) // 2 if align == "center" else column.left
    button = Box(x, column.bottom - height, x + width, column.bottom)
    return button, _place(fitted, button, button.top + (height - fitted.height) // 2, "center")


def plan_creative(
    *,
    width: int,
    height: int,
    headline: str,
    body: str | None = None,
    call_to_action: str | None = None,
    logo_size: tuple[int, int] | None = None,
    brand_name: str | None = None,
    safe_zone: SafeZone | None = None,
    variant: int = 0,
    face: FontFace | None = None,
) -> Plan:
    """Lay out a creative; text is fitted (wrapped, shrunk) into the space its element gets."""
    face = face or default_face()
    content = content_box(width, height, safe_zone)
    orientation = _orientation(width, height)
    short = min(width, height)
    gap = max(2, round(short * 0.035))
    flip = variant % 2 == 1
    column, align = _column(content, orientation, flip)
    logo, brand = _header(column, short, logo_size, brand_name, flip, face)
    header = logo or (brand.box if brand else None)
    header_bottom = header.bottom + gap if header else column.top
    cta, label = _footer(column, short, call_to_action, align, face)
    middle_bottom = cta.top - gap if cta else column.bottom

    # Middle: headline, accent bar, body; the block is centred (or top-aligned) in what is left.
    has_body = bool(body and body.strip())
    bar_height = max(2, round(short * 0.012))
    bar_width = max(8, round(min(column.width * 0.25, short * 0.16)))
    spacing = max(2, round(gap * 0.6))
    bar_block = spacing + bar_height + (spacing if has_body else 0)
    available = middle_bottom - header_bottom - bar_block
    headline_fit = fit_text(
        headline,
        column.width,
        round(available * 0.62) if has_body else available,
        max_size=round(short * 0.12),
        min_size=round(short * 0.045),
        face=face,
        bold=True,
        line_spacing=0.06,
    )
    body_fit = None
    if body and has_body:
        body_min = round(short * 0.03)
        body_fit = fit_text(
            body,
            column.width,
            available - headline_fit.height,
            # The body stays visibly subordinate to the headline.
            max_size=max(body_min, min(round(short * 0.055), round(headline_fit.size * 0.6))),
            min_size=body_min,
            face=face,
        )
    block = headline_fit.height + bar_block + (body_fit.height if body_fit else 0)
    room = middle_bottom - header_bottom
    top = header_bottom + (max(0, room - block) // 2 if (variant // 2) % 2 == 0 else 0)
    placed_headline = _place(headline_fit, column, top, align)
    bar_top = placed_headline.box.bottom + spacing
    bar_left = column.left + (column.width - bar_width) // 2 if align == "center" else column.left
    accent_bar = Box(bar_left, bar_top, bar_left + bar_width, bar_top + bar_height)
    placed_body = _place(body_fit, column, accent_bar.bottom + spacing, align) if body_fit else None

    plan = Plan(
        width=width,
        height=height,
        content=content,
        orientation=orientation,
        align=align,
        gradient="horizontal" if (variant // 2) % 2 else "vertical",
        logo=logo,
        brand_name=brand,
        headline=placed_headline,
        accent_bar=accent_bar,
        body=placed_body,
        cta=cta,
        cta_label=label,
        circle=None,
    )
    return replace(plan, circle=_circle(width, height, plan.content_boxes(), gap, variant))

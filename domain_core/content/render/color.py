"""Brand palettes and WCAG 2.x contrast.

Relative luminance and contrast ratio follow WCAG 2.2, "relative luminance" and "contrast ratio"
(https://www.w3.org/TR/WCAG22/#dfn-relative-luminance, https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio):
each sRGB channel c = C8/255 is linearised as c/12.92 when c <= 0.04045, else ((c + 0.055)/1.055) ** 2.4;
L = 0.2126 R + 0.7152 G + 0.0722 B; contrast = (L_lighter + 0.05) / (L_darker + 0.05), from 1 to 21.
(WCAG 2.0/2.1 printed 0.03928 as the threshold; 2.2 corrected it to the sRGB value, with no practical effect.)
"""

import colorsys
import re
from dataclasses import dataclass

from promptsales.domain_core.content.render.errors import RenderError

__all__ = [
    "BLACK",
    "MIN_TEXT_CONTRAST",
    "MIN_UI_CONTRAST",
    "WHITE",
    "Palette",
    "best_on",
    "contrast_ratio",
    "hex_to_rgb",
    "mix",
    "relative_luminance",
]

RGB = tuple[int, int, int]

# WCAG 2.x success criterion 1.4.3 (AA) for normal-size text; 1.4.11 asks 3:1 for UI components.
MIN_TEXT_CONTRAST = 4.5
MIN_UI_CONTRAST = 3.0
WHITE = "#FFFFFF"
BLACK = "#000000"
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")
# A brand colour at most this saturated (HSV) counts as a neutral that can serve as the background.
_NEUTRAL_SATURATION = 0.25


def _normalise(value: str, name: str) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise RenderError(f"{name}: expected a #RRGGBB colour, got {value!r}")
    return value.upper()


def hex_to_rgb(value: str) -> RGB:
    """``#RRGGBB`` to an (r, g, b) tuple."""
    value = _normalise(value, "colour")
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _to_hex(rgb: RGB) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def mix(a: str, b: str, t: float) -> str:
    """The colour ``t`` of the way from ``a`` to ``b`` (0 gives ``a``, 1 gives ``b``)."""
    ra, rb = hex_to_rgb(a), hex_to_rgb(b)
    return _to_hex(
        (
            round(ra[0] + (rb[0] - ra[0]) * t),
            round(ra[1] + (rb[1] - ra[1]) * t),
            round(ra[2] + (rb[2] - ra[2]) * t),
        )
    )


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    r, g, b = hex_to_rgb(color)
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.2 contrast ratio between two colours, 1.0 to 21.0 (order does not matter)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


def best_on(background: str) -> str:
    """White or black, whichever contrasts more with ``background`` (always at least 4.58:1)."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(BLACK, background) else BLACK


def _saturation(color: str) -> float:
    r, g, b = hex_to_rgb(color)
    return colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[1]


@dataclass(frozen=True)
class Palette:
    """Four ``#RRGGBB`` colours: primary (CTA, highlights), secondary (accents), background and text."""

    primary: str
    secondary: str
    background: str
    text: str

    def __post_init__(self) -> None:
        for name in ("primary", "secondary", "background", "text"):
            object.__setattr__(self, name, _normalise(getattr(self, name), name))

    @classmethod
    def from_brand(cls, colors: list[str]) -> "Palette":
        """A palette from a brand kit's colours (first = primary), with text/background contrast >= 4.5:1."""
        if not colors:
            raise RenderError("colors: at least one brand colour is needed")
        unique = list(dict.fromkeys(_normalise(c, "colors") for c in colors))
        primary = unique[0]
        # Kits list neutrals after their signature colours: the most neutral of those is the background,
        # else white. Text is the first brand colour reading at 4.5:1 on it, else white or black.
        secondary = unique[1] if len(unique) > 1 else mix(primary, WHITE, 0.55)
        neutrals = [c for c in unique[2:] if _saturation(c) <= _NEUTRAL_SATURATION]
        background = min(neutrals, key=_saturation) if neutrals else WHITE
        text = next(
            (c for c in unique if c != background and contrast_ratio(c, background) >= MIN_TEXT_CONTRAST),
            best_on(background),
        )
        return cls(primary=primary, secondary=secondary, background=background, text=text)

    @property
    def legible_text(self) -> str:
        """The text colour, or white/black when a hand-made palette's text would fall below 4.5:1."""
        if contrast_ratio(self.text, self.background) >= MIN_TEXT_CONTRAST:
            return self.text
        return best_on(self.background)

    @property
    def on_primary(self) -> str:
        """The label colour for a primary-coloured button: white or black, whichever contrasts more."""
        return best_on(self.primary)

    @property
    def accent(self) -> str:
        """The decoration colour: secondary, or primary when secondary barely differs from the background."""
        return self.secondary if contrast_ratio(self.secondary, self.background) >= 1.3 else self.primary

    @property
    def cta_needs_outline(self) -> bool:
        """Whether a primary button lacks the 3:1 non-text contrast (WCAG 1.4.11) against the background."""
        return contrast_ratio(self.primary, self.background) < MIN_UI_CONTRAST

"""Shared layout pieces: boxes, safe zones, canvas limits, logo decoding and scaling (plus palette and text)."""

import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image

from promptsales.domain_core.content.render.color import Palette, contrast_ratio
from promptsales.domain_core.content.render.errors import RenderError
from promptsales.domain_core.content.render.text import FittedText, FontFace, fit_text, missing_glyphs

__all__ = [
    "DEFAULT_SAFE_ZONE",
    "MAX_SIDE",
    "MIN_SIDE",
    "Box",
    "FittedText",
    "FontFace",
    "Palette",
    "SafeZone",
    "check_canvas",
    "content_box",
    "contrast_ratio",
    "decode_logo",
    "fit_logo",
    "fit_text",
    "missing_glyphs",
]

MIN_SIDE = 64
MAX_SIDE = 4096
# Logos larger than this are refused before decoding (a decompression bomb costs memory, not bytes).
_MAX_LOGO_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class Box:
    """A pixel rectangle: ``left``/``top`` inclusive, ``right``/``bottom`` exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        """Width in px."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """Height in px."""
        return self.bottom - self.top

    def contains(self, other: "Box") -> bool:
        """Whether ``other`` lies wholly inside this box."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def intersect(self, other: "Box") -> "Box":
        """The overlap of two boxes (may be empty: zero or negative size)."""
        return Box(
            max(self.left, other.left),
            max(self.top, other.top),
            min(self.right, other.right),
            min(self.bottom, other.bottom),
        )

    def distance_to(self, x: float, y: float) -> float:
        """Euclidean distance from a point to the nearest point of this box (0 inside)."""
        dx = max(self.left - x, 0.0, x - self.right)
        dy = max(self.top - y, 0.0, y - self.bottom)
        return math.hypot(dx, dy)


# E.g. Meta Stories: SafeZone(top_pct=14, bottom_pct=20, side_pct=6) keeps copy clear of the profile and reply bars.
@dataclass(frozen=True)
class SafeZone:
    """Margins content keeps out of, in percent (0..45) of the height (top, bottom) or width (sides)."""

    top_pct: float
    bottom_pct: float
    side_pct: float

    def __post_init__(self) -> None:
        for name in ("top_pct", "bottom_pct", "side_pct"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 45:
                raise RenderError(f"safe_zone.{name}: expected a percentage from 0 to 45, got {value!r}")
        if self.top_pct + self.bottom_pct > 70:
            raise RenderError("safe_zone: top_pct + bottom_pct leaves under 30% of the height for content")

    def box(self, width: int, height: int) -> Box:
        """The content area of a ``width`` x ``height`` canvas."""
        side = math.ceil(width * self.side_pct / 100)
        return Box(
            side,
            math.ceil(height * self.top_pct / 100),
            width - side,
            height - math.ceil(height * self.bottom_pct / 100),
        )


# The breathing room every creative keeps, whatever the placement's own safe zone says.
DEFAULT_SAFE_ZONE = SafeZone(5, 5, 5)


def content_box(width: int, height: int, safe_zone: SafeZone | None) -> Box:
    """The area content may use: the placement's safe zone within the default margins."""
    default = DEFAULT_SAFE_ZONE.box(width, height)
    return default if safe_zone is None else default.intersect(safe_zone.box(width, height))


def check_canvas(width: int, height: int) -> None:
    """Reject canvas sizes outside ``MIN_SIDE``..``MAX_SIDE`` px per side."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIDE <= value <= MAX_SIDE:
            raise RenderError(f"{name}: expected an integer from {MIN_SIDE} to {MAX_SIDE} px, got {value!r}")


def decode_logo(data: bytes) -> Image.Image:
    """Decode PNG logo bytes to RGBA, or raise :class:`RenderError` naming ``logo``."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise RenderError("logo: expected non-empty PNG bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["PNG"])
            if image.width * image.height > _MAX_LOGO_PIXELS:
                raise RenderError(f"logo: {image.width}x{image.height} px is too large (at most 4096x4096)")
            image.load()
    except RenderError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RenderError(f"logo: not a readable PNG image ({exc})") from exc
    return image.convert("RGBA")


def fit_logo(size: tuple[int, int], max_width: int, max_height: int) -> tuple[int, int]:
    """A logo's size scaled to fit ``max_width`` x ``max_height`` keeping its aspect, enlarged at most 2x."""
    scale = min(max_width / size[0], max_height / size[1], 2.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))

"""Fonts, glyph fallbacks, and wrapping/shrinking text into a box.

Font: DejaVu Sans when the host has it (Debian/Ubuntu ``fonts-dejavu-core``, Fedora, Alpine paths), else the
Aileron Regular that Pillow >= 10.1 embeds (``ImageFont.load_default(size=...)``, scalable through FreeType).
The embedded Aileron covers little more than ASCII: not even ``é``, ``ß`` or ``€``. So that copy never
crashes or shows boxes needlessly, each character the face cannot draw is folded (``é`` -> ``e``, ``ß`` -> ``ss``,
``—`` -> ``-``), or dropped when it is a symbol or emoji; letters of scripts the face lacks entirely (CJK,
Cyrillic on Aileron, ...) stay and render as the font's .notdef box. :func:`missing_glyphs` tells a caller
which characters were affected. With libraqm (bundled in Pillow wheels) Arabic and Hebrew are shaped per line.
"""

import functools
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import ImageDraw, ImageFont, features

from promptsales.domain_core.content.render.errors import RenderError

__all__ = [
    "BUILTIN_FACE",
    "Align",
    "FittedText",
    "FontFace",
    "default_face",
    "draw_text",
    "fit_text",
    "fold_text",
    "has_glyph",
    "load_font",
    "missing_glyphs",
]

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class FontFace:
    """A font family: regular and optional bold TrueType files; no files means Pillow's embedded Aileron."""

    name: str
    regular: str | None = None
    bold: str | None = None


BUILTIN_FACE = FontFace(name="Aileron Regular (embedded in Pillow)")
_DEJAVU_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
)
_PROBE_SIZE = 32
# A plane-16 private-use code point: no font maps it, so it renders as the face's .notdef glyph.
_NOTDEF_PROBE = "\U0010fffd"
_SMALLEST = 6
# Written as escapes: several of these look exactly like the ASCII they fold to.
_FALLBACKS = {
    "\u00df": "ss",  # sharp s
    "\u1e9e": "SS",  # capital sharp s
    "\u00e6": "ae",
    "\u00c6": "AE",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0142": "l",
    "\u0141": "L",
    "\u0111": "d",
    "\u0110": "D",
    "\u00f0": "d",
    "\u00d0": "D",
    "\u00fe": "th",
    "\u00de": "Th",
    "\u0131": "i",  # dotless i
    "\u20ac": "EUR",
    "\u00a3": "GBP",
    "\u00a5": "JPY",
    "\u20b9": "INR",
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\u2022": "\u00b7",  # bullet -> middle dot
    "\u00ab": '"',
    "\u00bb": '"',
    "\u201e": '"',
    "\u201a": "'",
    "\u2039": "'",
    "\u203a": "'",
    "\u2192": "->",
    "\u2190": "<-",
    "\u00ae": "(R)",
    "\u00d7": "x",  # multiplication sign
    "\u2026": "...",  # ellipsis
}
_fonts = threading.local()


@functools.cache
def default_face() -> FontFace:
    """DejaVu Sans (with its bold) when installed on the host, else Pillow's embedded Aileron."""
    for folder in _DEJAVU_DIRS:
        regular = Path(folder) / "DejaVuSans.ttf"
        if regular.is_file():
            bold = Path(folder) / "DejaVuSans-Bold.ttf"
            return FontFace("DejaVu Sans", str(regular), str(bold) if bold.is_file() else None)
    return BUILTIN_FACE


def load_font(face: FontFace, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A FreeType font of ``face`` at ``size`` px, cached per thread so no two threads share a FreeType face."""
    cache: dict[tuple[FontFace, int, bool], ImageFont.FreeTypeFont] | None = getattr(_fonts, "cache", None)
    if cache is None:
        cache = _fonts.cache = {}
    key = (face, size, bold)
    if key not in cache:
        cache[key] = _open_font(face, size, bold)
    return cache[key]


def _open_font(face: FontFace, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    if not features.check("freetype2"):
        raise RenderError("font: Pillow was built without FreeType, so text cannot be scaled")
    path = face.bold if bold and face.bold else face.regular
    if path is None:
        font = ImageFont.load_default(size=size)
        if not isinstance(font, ImageFont.FreeTypeFont):
            raise RenderError("font: Pillow's default font is not scalable on this build")
        return font
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise RenderError(f"font: cannot open {path}: {exc}") from exc


def _stroke(face: FontFace, size: int, bold: bool) -> int:
    # A face without a bold file gets a same-colour outline instead, so headlines still read as bold.
    return round(size / 48) if bold and face.bold is None else 0


def _signature(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=64)
def _notdef(face: FontFace) -> tuple[tuple[int, int], bytes]:
    return _signature(load_font(face, _PROBE_SIZE), _NOTDEF_PROBE)


@functools.lru_cache(maxsize=16384)
def has_glyph(face: FontFace, char: str) -> bool:
    """Whether ``face`` draws ``char`` with a glyph of its own rather than the .notdef box."""
    return _signature(load_font(face, _PROBE_SIZE), char) != _notdef(face)


def _drawable(face: FontFace, text: str) -> bool:
    return all(has_glyph(face, c) for c in text)


def _fold_char(face: FontFace, char: str) -> str:
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if decomposed and decomposed != char and _drawable(face, decomposed):
        return decomposed
    fallback = _FALLBACKS.get(char)
    if fallback and _drawable(face, fallback):
        return fallback
    # A letter or digit of a script the face lacks keeps its place (as a box) so the copy keeps its shape;
    # a missing symbol or emoji is dropped, since a box there only looks broken.
    return char if unicodedata.category(char)[0] in "LN" else ""


def fold_text(text: str, face: FontFace | None = None) -> str:
    """``text`` made drawable with ``face``: whitespace normalised, missing glyphs folded or dropped."""
    face = face or default_face()
    out: list[str] = []
    base_kept = True
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char == "\n" or char.isspace():
            out.append("\n" if char in "\n\r\u2028\u2029" else " ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif category in ("Mn", "Me"):
            # Combining marks (and emoji variation selectors) follow their base character's fate.
            if base_kept:
                out.append(char)
        elif has_glyph(face, char):
            out.append(char)
            base_kept = True
        else:
            out.append(_fold_char(face, char))
            base_kept = False
    lines = (" ".join(line.split()) for line in "".join(out).split("\n"))
    folded = "\n".join(line for line in lines if line)
    if not folded and text.strip():
        # Nothing drawable survived (say, only emoji): show boxes rather than silently drop the copy.
        folded = " ".join("".join(c for c in text if unicodedata.category(c)[0] != "C").split())
    return folded


def missing_glyphs(text: str, face: FontFace | None = None) -> frozenset[str]:
    """The characters of ``text`` that ``face`` cannot draw as written (folded, dropped or shown as boxes)."""
    face = face or default_face()
    return frozenset(
        c
        for c in unicodedata.normalize("NFC", text)
        if not c.isspace() and unicodedata.category(c)[0] not in "CM" and not has_glyph(face, c)
    )


@dataclass(frozen=True)
class FittedText:
    """Wrapped lines at the chosen size, with the metrics needed to draw and place them."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    size: int
    stroke: int
    line_height: int
    line_gap: int
    width: int
    height: int
    truncated: bool


def _measure(font: ImageFont.FreeTypeFont, stroke: int, text: str) -> int:
    return int(font.getlength(text) + 0.999) + 2 * stroke


def _wrap(text: str, font: ImageFont.FreeTypeFont, stroke: int, width: int, break_words: bool) -> list[str] | None:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if _measure(font, stroke, candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if _measure(font, stroke, word) <= width:
                current = word
                continue
            if not break_words:
                return None
            # Scripts without spaces (CJK) and over-long words break between characters.
            for char in word:
                if current and _measure(font, stroke, current + char) > width:
                    lines.append(current)
                    current = char
                else:
                    current += char
        if current:
            lines.append(current)
    return lines


def _fitted(
    lines: list[str], font: ImageFont.FreeTypeFont, size: int, stroke: int, spacing: float, truncated: bool
) -> FittedText:
    ascent, descent = font.getmetrics()
    line_height = ascent + descent + 2 * stroke
    gap = round(size * spacing)
    widths = [_measure(font, stroke, line) for line in lines]
    height = len(lines) * line_height + max(0, len(lines) - 1) * gap
    return FittedText(tuple(lines), font, size, stroke, line_height, gap, max(widths, default=0), height, truncated)


def _attempt(
    text: str, face: FontFace, size: int, bold: bool, box: tuple[int, int], spacing: float, break_words: bool
) -> FittedText | None:
    font = load_font(face, size, bold=bold)
    stroke = _stroke(face, size, bold)
    lines = _wrap(text, font, stroke, box[0], break_words)
    if lines is None:
        return None
    fitted = _fitted(lines, font, size, stroke, spacing, truncated=False)
    return fitted if fitted.width <= box[0] and fitted.height <= box[1] else None


def _truncate(text: str, face: FontFace, size: int, bold: bool, box: tuple[int, int], spacing: float) -> FittedText:
    width, height = box
    font = load_font(face, size, bold=bold)
    stroke = _stroke(face, size, bold)
    # A box too short for one line at the legible minimum gets a smaller font rather than text outside it.
    while size > _SMALLEST and sum(font.getmetrics()) + 2 * stroke > height:
        size -= 1
        font, stroke = load_font(face, size, bold=bold), _stroke(face, size, bold)
    lines = _wrap(text, font, stroke, width, break_words=True) or [""]
    line_height, gap = sum(font.getmetrics()) + 2 * stroke, round(size * spacing)
    room = max(1, (height + gap) // (line_height + gap))
    truncated = len(lines) > room
    if truncated:
        ellipsis = "…" if has_glyph(face, "…") else "..."
        last = lines[room - 1]
        while last and _measure(font, stroke, last + ellipsis) > width:
            # Drop whole words while there are several; a lone word loses characters instead.
            last = last.rsplit(" ", 1)[0] if " " in last.strip() else last[:-1]
        lines = [*lines[: room - 1], last.rstrip() + ellipsis]
    return _fitted(lines, font, size, stroke, spacing, truncated)


def fit_text(
    text: str,
    width: int,
    height: int,
    *,
    max_size: int,
    min_size: int,
    face: FontFace | None = None,
    bold: bool = False,
    line_spacing: float = 0.15,
) -> FittedText:
    """``text`` (folded) wrapped into ``width`` x ``height`` at the largest fitting size, else cut with an ellipsis."""
    face = face or default_face()
    text = fold_text(text, face)
    min_size = max(_SMALLEST, min_size)
    max_size = max(min_size, max_size)
    box = (max(1, width), max(1, height))
    if not text:
        return _fitted([], load_font(face, min_size, bold=bold), min_size, 0, line_spacing, truncated=False)
    # Whole words at a smaller size read better than broken words at a larger one: try that first.
    for break_words in (False, True):
        low, high, best = min_size, max_size, None
        while low <= high:
            middle = (low + high) // 2
            attempt = _attempt(text, face, middle, bold, box, line_spacing, break_words)
            if attempt is None:
                high = middle - 1
            else:
                best, low = attempt, middle + 1
        if best is not None:
            return best
    return _truncate(text, face, min_size, bold, box, line_spacing)


def draw_text(
    draw: ImageDraw.ImageDraw, fitted: FittedText, left: int, top: int, width: int, fill: str, align: Align
) -> None:
    """Draw ``fitted`` with its top-left at (``left``, ``top``), each line aligned within ``width``."""
    y = top
    for line in fitted.lines:
        line_width = _measure(fitted.font, fitted.stroke, line)
        x = left + {"left": 0, "center": (width - line_width) // 2, "right": width - line_width}[align]
        draw.text(
            (x + fitted.stroke, y + fitted.stroke),
            line,
            font=fitted.font,
            fill=fill,
            anchor="la",
            stroke_width=fitted.stroke,
            stroke_fill=fill,
        )
        y += fitted.line_height + fitted.line_gap

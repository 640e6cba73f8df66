"""Trend, comparison and funnel charts rendered to PNG bytes, safe to call from server threads.

Only matplotlib's object API is used (``Figure`` + ``FigureCanvasAgg``): pyplot keeps a global registry of figures
and is not thread-safe. matplotlib's font cache and rcParams are still shared, so each chart is built and rendered
under one lock with a pinned style; the same input then gives byte-identical PNGs (no Software/date metadata).
Labels come from users and platforms: control and bidi-override characters are removed, glyphs the bundled font
lacks become U+FFFD, mathtext is off (a "$" is just a dollar), and each label is cut to 40 characters.
Right-to-left labels are kept but drawn in logical order (matplotlib does no bidi shaping).
"""

import io
import math
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import regex  # type: ignore[import-untyped]
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType

from promptsales.domain_core.analytics.model.metrics import display_name, format_value

MAX_LINES = 12
MAX_BARS = 30
LABEL_CHARS = 40
TITLE_CHARS = 90
EMPTY_TEXT = "No data for this period"
FONT = "DejaVu Sans"  # bundled with matplotlib, so every host renders the same glyphs
_SIZE_INCHES = (8.0, 4.5)
_DPI = 100
_STYLE: dict[RcKeyType, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": 9.0,
    "axes.titlesize": 11.0,
    "text.parse_math": False,
    "text.usetex": False,
    "axes.formatter.use_mathtext": False,
    "svg.hashsalt": "promptsales",
}
# tab20's strong colours first, then its light ones: 12 lines stay distinct without repeating the cycle.
_TAB20 = matplotlib.colormaps["tab20"]
COLOURS = [_TAB20(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]
# Bidi overrides/isolates can reorder a whole label (filename spoofing); other format characters such as ZWJ stay.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RENDER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """The code points the bundled font can draw."""
    path = font_manager.findfont(font_manager.FontProperties(family=FONT), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def clean_label(text: str, limit: int = LABEL_CHARS) -> str:
    """A label safe to draw: printable, in the font, one line, at most ``limit`` characters (graphemes)."""
    glyphs = _glyphs()
    kept: list[str] = []
    # Only the head matters once cut to `limit`; bounding it keeps a hostile megabyte label cheap.
    for char in text[: limit * 8]:
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f" or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or char in _BIDI_CONTROLS:
            continue
        elif ord(char) in glyphs:
            kept.append(char)
        elif category != "Cf":
            kept.append("\ufffd")
    cleaned = " ".join("".join(kept).split())
    graphemes = regex.findall(r"\X", cleaned)
    if len(graphemes) > limit:
        cleaned = "".join(graphemes[: limit - 1]).rstrip() + "…"
    return cleaned or "(no name)"


def _finite(value: float) -> float:
    """The value, or NaN when it is infinite (matplotlib cannot scale an axis to infinity)."""
    return value if math.isfinite(value) else math.nan


def _capped_title(title: str, shown: int, total: int) -> str:
    """The cleaned title, noting when only the first items are shown."""
    base = clean_label(title, TITLE_CHARS)
    return base if shown == total else f"{base} (first {shown} of {total} shown)"


def _render(draw: Callable[[Figure], None]) -> bytes:
    """Build a figure with ``draw`` under the lock and pinned style, and return it as PNG bytes."""
    with _RENDER_LOCK, matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _empty(figure: Figure, title: str) -> None:
    """Draw the no-data message in place of a plot."""
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, EMPTY_TEXT, ha="center", va="center", transform=axes.transAxes, fontsize=12, color="0.4")


def _value_axis(axes: Axes, metric: str, which: str) -> None:
    """Format the value axis in the metric's units, with a light grid behind the data."""
    axis = axes.yaxis if which == "y" else axes.xaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(metric, v)))
    axes.grid(axis=which, color="0.9")  # type: ignore[arg-type]
    axes.set_axisbelow(True)


def trend_chart(series: Mapping[str, Sequence[tuple[date, float]]], *, title: str, metric: str) -> bytes:
    """One line per label over time (at most 12, in the given order), with a date axis and a legend."""
    items = [(label, points) for label, points in series.items() if points]
    shown = items[:MAX_LINES]
    heading = _capped_title(title, len(shown), len(items))

    def draw(figure: Figure) -> None:
        """Plot each series as a line on a date axis."""
        if not shown:
            _empty(figure, heading)
            return
        axes = figure.add_subplot()
        for index, (label, points) in enumerate(shown):
            ordered = sorted(points, key=lambda point: point[0])
            days = np.array([day for day, _ in ordered], dtype="datetime64[D]")
            x = mdates.date2num(days)  # type: ignore[no-untyped-call]  # matplotlib.dates ships no annotations
            y = [_finite(float(value)) for _, value in ordered]
            marker = "o" if len(ordered) <= 31 else None
            axes.plot(x, y, color=COLOURS[index], marker=marker, markersize=3, linewidth=1.5, label=clean_label(label))
        locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        _value_axis(axes, metric, "y")
        axes.set_ylabel(display_name(metric))
        axes.set_title(heading)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)

    return _render(draw)


def comparison_chart(values: Sequence[tuple[str, float]], *, title: str, metric: str) -> bytes:
    """Horizontal bars, one per label (at most 30, top to bottom in the given order), each annotated."""
    shown = list(values[:MAX_BARS])
    heading = _capped_title(title, len(shown), len(values))

    def draw(figure: Figure) -> None:
        """Plot one annotated bar per label."""
        if not shown:
            _empty(figure, heading)
            return
        axes = figure.add_subplot()
        numbers = [_finite(float(value)) for _, value in shown]
        positions = np.arange(len(shown))
        bars = axes.barh(positions, np.nan_to_num(numbers), color=COLOURS[0])
        axes.set_yticks(positions, [clean_label(label) for label, _ in shown])
        axes.invert_yaxis()
        texts = ["n/a" if math.isnan(v) else format_value(metric, v) for v in numbers]
        axes.bar_label(bars, labels=texts, padding=3, fontsize=8)
        axes.margins(x=0.15)
        _value_axis(axes, metric, "x")
        axes.set_xlabel(display_name(metric))
        axes.set_title(heading)

    return _render(draw)


def _count(value: float) -> str:
    """A stage count: whole numbers without decimals, others with 2."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def funnel_chart(stages: Sequence[tuple[str, float]], *, title: str) -> bytes:
    """Centred bars narrowing stage by stage (at most 30), each with its count and conversion from the step before."""
    shown = list(stages[:MAX_BARS])
    heading = _capped_title(title, len(shown), len(stages))

    def draw(figure: Figure) -> None:
        """Plot centred stage bars with counts and step conversions."""
        widths = [max(0.0, v) if math.isfinite(v) else 0.0 for v in (float(value) for _, value in shown)]
        if not shown or max(widths) == 0:
            _empty(figure, heading)
            return
        axes = figure.add_subplot()
        widest = max(widths)
        positions = np.arange(len(shown))
        # Funnels span orders of magnitude: a sliver keeps small non-zero stages visible; the text carries the value.
        drawn = [max(w, widest * 0.01) if w > 0 else 0.0 for w in widths]
        lefts = [(widest - w) / 2 for w in drawn]
        axes.barh(positions, drawn, left=lefts, color=COLOURS[0])
        axes.set_yticks(positions, [clean_label(label) for label, _ in shown])
        axes.invert_yaxis()
        for i, width in enumerate(widths):
            text = _count(width)
            if i > 0:
                before = widths[i - 1]
                text += f"  ({width / before:.1%} of previous)" if before > 0 else "  (n/a of previous)"
            axes.text(lefts[i] + drawn[i] + widest * 0.02, i, text, va="center", fontsize=8)
        axes.set_xlim(0, widest * 1.55)  # room for the annotations right of the widest bar
        axes.xaxis.set_visible(False)
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
        axes.set_title(heading)

    return _render(draw)

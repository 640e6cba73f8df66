"""PNG charts: valid, sized, deterministic, and robust to hostile labels and empty input."""

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from PIL import Image

from promptsales.domain_core.analytics.model.charts import clean_label, comparison_chart, funnel_chart, trend_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DAY = date(2024, 3, 1)
HOSTILE = [
    "nul\x00inside\x07",
    "x" * 1_000_000,
    "حملة الربيع",  # Arabic
    "קמפיין אביב",  # Hebrew
    "launch 🚀👨‍👩‍👧 $x$ \u202eevil",
    "",
]


def _trend(scale: float = 1.0) -> dict[str, list[tuple[date, float]]]:
    return {
        "Facebook": [(DAY + timedelta(days=i), scale * (300 + 10 * i)) for i in range(30)],
        "Google": [(DAY + timedelta(days=i), scale * (200 + (i % 7) * 15)) for i in range(30)],
    }


FUNNEL = [("Impressions", 100_000.0), ("Clicks", 2_300.0), ("Leads", 120.0), ("Customers", 4.0)]


def _check_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (800, 450)
        assert image.format == "PNG"
        assert "Software" not in image.info
    assert len(png) < 200_000


CHARTS: dict[str, tuple[Callable[[], bytes], Callable[[], bytes]]] = {
    "trend": (
        lambda: trend_chart(_trend(), title="Spend by channel", metric="spend"),
        lambda: trend_chart(_trend(1.5), title="Spend by channel", metric="spend"),
    ),
    "comparison": (
        lambda: comparison_chart([("Facebook", 12.5), ("Google", 30.0)], title="CPL", metric="cpl"),
        lambda: comparison_chart([("Facebook", 12.5), ("Google", 31.0)], title="CPL", metric="cpl"),
    ),
    "funnel": (
        lambda: funnel_chart(FUNNEL, title="Funnel"),
        lambda: funnel_chart([*FUNNEL[:3], ("Customers", 5.0)], title="Funnel"),
    ),
}


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_valid_deterministic_and_data_sensitive(kind: str) -> None:
    render, render_other = CHARTS[kind]
    first = render()
    _check_png(first)
    assert render() == first
    assert render_other() != first


def test_empty_input_draws_a_no_data_chart() -> None:
    pngs = [
        trend_chart({}, title="Spend", metric="spend"),
        trend_chart({"Facebook": []}, title="Spend", metric="spend"),
        comparison_chart([], title="CPL", metric="cpl"),
        funnel_chart([], title="Funnel"),
        funnel_chart([("Impressions", 0.0), ("Clicks", 0.0)], title="Funnel"),
    ]
    for png in pngs:
        _check_png(png)
    # The empty charts carry the same message, so they differ only in the title.
    assert pngs[0] == pngs[1]


def test_hostile_labels_do_not_break_rendering() -> None:
    series = {label: [(DAY, 1.0), (DAY + timedelta(days=1), float(i))] for i, label in enumerate(HOSTILE)}
    series["nan and inf"] = [(DAY, float("nan")), (DAY + timedelta(days=1), float("inf"))]
    _check_png(trend_chart(series, title="\x00" + "t" * 100_000, metric="ctr"))
    _check_png(comparison_chart([(label, float(i)) for i, label in enumerate(HOSTILE)], title="$", metric="spend"))
    _check_png(funnel_chart([(label, 100.0 / (i + 1)) for i, label in enumerate(HOSTILE)], title="🚀"))


def test_series_and_bars_are_capped() -> None:
    many = {f"channel {i}": [(DAY, float(i)), (DAY + timedelta(days=1), float(i + 1))] for i in range(40)}
    first_twelve = dict(list(many.items())[:12])
    capped = trend_chart(many, title="T", metric="spend")
    _check_png(capped)
    # The extra lines are dropped, and the title says so ("first 12 of 40 shown"), so the bytes differ.
    assert capped != trend_chart(first_twelve, title="T", metric="spend")
    _check_png(comparison_chart([(f"ad {i}", float(i)) for i in range(200)], title="Spend", metric="spend"))


def test_clean_label() -> None:
    assert clean_label("nul\x00inside\x07") == "nulinside"
    assert clean_label("two\nlines\t here") == "two lines here"
    long = clean_label("x" * 1_000_000)
    assert len(long) == 40 and long.endswith("…")
    assert clean_label("حملة الربيع") == "حملة الربيع"
    assert clean_label("קמפיין אביב") == "קמפיין אביב"
    assert clean_label("a\u202eb") == "ab"  # bidi override removed
    assert clean_label("$x$") == "$x$"  # mathtext is off, so dollars are kept as text
    assert clean_label("\x00\x01") == "(no name)"
    # Characters the bundled font lacks (DejaVu Sans has no CJK) become replacement characters, never an error.
    assert clean_label("中文 ok") == "\ufffd\ufffd ok"


def test_concurrent_renders_match_serial_ones() -> None:
    expected = funnel_chart(FUNNEL, title="Funnel")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: funnel_chart(FUNNEL, title="Funnel"), range(4)))
    assert results == [expected] * 4

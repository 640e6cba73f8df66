"""Offline PNG creatives: exact sizes, brand colours, legible layout in the safe zone, logo, determinism, bad input."""

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from promptsales.domain_core.content.render.color import relative_luminance
from promptsales.domain_core.content.render.image import Creative, RenderError, plan, render_image
from promptsales.domain_core.content.render.layout import (
    Box,
    Palette,
    SafeZone,
    content_box,
    contrast_ratio,
    fit_text,
    missing_glyphs,
)
from promptsales.domain_core.content.render.text import BUILTIN_FACE, FontFace, default_face, fold_text

PRIMARY, SECONDARY, NEUTRAL = "#E4572E", "#17BEBB", "#FAFAF5"
PALETTE = Palette.from_brand([PRIMARY, SECONDARY, NEUTRAL])
LOGO_RGB = (40, 40, 160)
STORIES = SafeZone(top_pct=14, bottom_pct=20, side_pct=6)
PLACEMENTS = [
    pytest.param(1200, 628, None, id="link-1200x628"),
    pytest.param(1080, 1350, None, id="feed-portrait-1080x1350"),
    pytest.param(1080, 1920, STORIES, id="stories-1080x1920"),
    pytest.param(1080, 1080, None, id="square-1080x1080"),
]
FACES = [pytest.param(None, id="default-face"), pytest.param(BUILTIN_FACE, id="pillow-aileron")]


def logo_png(size: tuple[int, int] = (200, 120)) -> bytes:
    """An opaque logo in one colour, with a transparent corner."""
    image = Image.new("RGBA", size, (*LOGO_RGB, 255))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def creative(**changes: object) -> Creative:
    values: dict[str, object] = {
        "body": "Lightweight, breathable and built for long distances. Free returns for 60 days.",
        "call_to_action": "Shop now",
        "palette": PALETTE,
        "logo_png": logo_png(),
    }
    values.update(changes)
    headline = str(values.pop("headline", "Summer sale: 40% off every pair of running shoes"))
    return Creative(headline, **values)  # type: ignore[arg-type]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def near(image: Image.Image, color: str | tuple[int, int, int], tolerance: int = 8) -> int:
    """How many pixels lie within ``tolerance`` of ``color`` on every channel."""
    solid = Image.new("RGB", image.size, color)
    red, green, blue = ImageChops.difference(image, solid).split()
    worst = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return worst.point(lambda v: 255 if v <= tolerance else 0).histogram()[255]


def backdrop(image: Image.Image, text: str) -> str:
    """The most frequent colour of an image apart from the text colour and its antialiasing (#RRGGBB)."""
    counts: list[tuple[int, tuple[int, int, int]]] = image.getcolors(maxcolors=image.width * image.height) or []  # type: ignore[assignment]
    colors = [(count, "#{:02X}{:02X}{:02X}".format(*rgb)) for count, rgb in counts]
    return max((c for c in colors if contrast_ratio(c[1], text) >= 2), default=(0, text))[1]


def crop(image: Image.Image, box: Box) -> Image.Image:
    return image.crop((box.left, box.top, box.right, box.bottom))


@pytest.mark.parametrize(("width", "height", "zone"), PLACEMENTS)
def test_png_has_the_placement_size_brand_colours_and_is_not_blank(
    width: int, height: int, zone: SafeZone | None
) -> None:
    image = decode(render_image(creative(), width=width, height=height, safe_zone=zone))
    assert image.size == (width, height)
    pixels = width * height
    assert near(image, PRIMARY) > pixels * 0.005  # the button and the accent bar
    assert near(image, SECONDARY) > pixels * 0.01  # the accent circle
    assert near(image, PALETTE.text) > pixels * 0.01  # the copy
    assert len(image.getcolors(maxcolors=pixels) or []) > 100  # antialiased text, gradient: not a flat canvas
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 20


@pytest.mark.parametrize(("width", "height", "zone"), PLACEMENTS)
@pytest.mark.parametrize("variant", [0, 1, 2, 3])
def test_every_element_stays_inside_the_safe_zone(width: int, height: int, zone: SafeZone | None, variant: int) -> None:
    layout = plan(creative(), width=width, height=height, safe_zone=zone, variant=variant)
    area = content_box(width, height, zone)
    assert layout.logo is not None and layout.cta is not None and layout.body is not None
    for box in layout.content_boxes():
        assert area.contains(box), (box, area)
    if zone is STORIES:
        assert layout.logo.top >= height * 0.14 and layout.cta.bottom <= height * 0.80
    if layout.circle is not None:  # the decoration never lies under content
        x, y, radius = layout.circle
        assert all(box.distance_to(x, y) > radius for box in layout.content_boxes())


def test_text_regions_hold_text_on_the_background() -> None:
    image = decode(render_image(creative(), width=1080, height=1350))
    layout = plan(creative(), width=1080, height=1350)
    assert layout.body is not None and layout.cta is not None and layout.cta_label is not None
    for placed in (layout.headline, layout.body):
        region = crop(image, placed.box)
        assert near(region, PALETTE.text) > region.width * region.height * 0.05
        # What surrounds the letters is the (gradient) background, and the text reads on it.
        around = backdrop(region, PALETTE.text)
        assert contrast_ratio(around, PALETTE.background) < 1.25
        assert contrast_ratio(PALETTE.text, around) >= 4.5
    button = crop(image, layout.cta)
    assert near(button, PRIMARY) > button.width * button.height * 0.5
    assert near(crop(image, layout.cta_label.box), PALETTE.on_primary) > 50


@pytest.mark.parametrize(("variant", "corner"), [(0, "left"), (1, "right")])
def test_logo_is_drawn_in_its_corner_keeping_its_aspect(variant: int, corner: str) -> None:
    width, height = 1080, 1080
    image = decode(render_image(creative(), width=width, height=height, variant=variant))
    logo = plan(creative(), width=width, height=height, variant=variant).logo
    assert logo is not None
    assert logo.top < height * 0.2
    assert (logo.right < width / 2) if corner == "left" else (logo.left > width / 2)
    assert max(logo.width, logo.height) <= round(min(width, height) * 0.30)
    assert logo.height <= round(min(width, height) * 0.15)
    assert abs(logo.width / logo.height - 200 / 120) < 0.05
    region = crop(image, logo)
    # 15/16 of the logo is opaque LOGO_RGB; its transparent corner shows the background.
    assert near(region, LOGO_RGB, tolerance=12) > region.width * region.height * 0.8


def test_brand_name_stands_in_for_a_missing_logo() -> None:
    item = creative(logo_png=None, brand_name="Acme Running")
    layout = plan(item, width=1200, height=628)
    assert layout.logo is None and layout.brand_name is not None
    region = crop(decode(render_image(item, width=1200, height=628)), layout.brand_name.box)
    assert near(region, PALETTE.text) > 100


def test_same_inputs_give_the_same_bytes_and_variants_differ() -> None:
    first = render_image(creative(), width=1080, height=1080)
    assert render_image(creative(), width=1080, height=1080) == first
    others = {render_image(creative(), width=1080, height=1080, variant=v) for v in (1, 2, 3)}
    assert first not in others and len(others) == 3
    assert plan(creative(), width=1080, height=1080, variant=0).align == "center"
    assert plan(creative(), width=1080, height=1080, variant=1).align == "left"


def test_layout_adapts_to_the_orientation() -> None:
    landscape = plan(creative(), width=1200, height=628)
    portrait = plan(creative(), width=1080, height=1920)
    assert (landscape.orientation, portrait.orientation) == ("landscape", "portrait")
    assert plan(creative(), width=1080, height=1080).orientation == "square"
    # Landscape copy keeps to a column, leaving the other side to the accent; portrait uses the full width.
    assert landscape.headline.area.width <= landscape.content.width * 0.62 + 1
    assert portrait.headline.area.width == portrait.content.width
    assert landscape.circle is not None


def test_text_shrinks_to_fit_and_ellipsis_only_when_the_minimum_overflows() -> None:
    short = fit_text("Sale", 600, 200, max_size=120, min_size=20)
    longer = fit_text("Sale on every single pair of shoes in the store", 600, 200, max_size=120, min_size=20)
    assert short.size > longer.size and not short.truncated and not longer.truncated
    assert longer.width <= 600 and longer.height <= 200
    cut = fit_text("word " * 200, 600, 200, max_size=120, min_size=20)
    assert cut.truncated and cut.size == 20 and cut.lines[-1].endswith(("…", "..."))
    assert cut.height <= 200 and cut.width <= 600
    # Words are kept whole when some size allows it.
    whole = fit_text("Extraordinary", 300, 300, max_size=200, min_size=10)
    assert whole.lines == ("Extraordinary",)


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(
    "headline",
    [
        "夏季大促销 全场四折 立即购买享受免费退货",
        "تخفيضات الصيف: خصم ٤٠٪ على كل الأحذية",
        "Распродажа: скидка 40%",
        "🔥🔥🔥",
        "Sale 🔥 👨\u200d👩\u200d👧 now ❤️",
        "Cafe\u0301 fu\u0308r Größe — 20 € Rabatt",
        "\t\u200b  Tabs\r\nand\x00 controls  ",
    ],
)
def test_non_latin_and_emoji_text_renders_without_crashing(face: FontFace | None, headline: str) -> None:
    image = decode(render_image(creative(headline=headline, body=headline), width=640, height=640, font=face))
    assert image.size == (640, 640)


def test_embedded_font_folds_what_it_cannot_draw() -> None:
    assert fold_text("Café für Größe — 20 €", BUILTIN_FACE) == "Cafe fur Grosse - 20 EUR"
    assert fold_text("Sale 🔥 now", BUILTIN_FACE) == "Sale now"
    assert fold_text("中文", BUILTIN_FACE) == "中文"  # kept: shown as boxes rather than silently lost
    assert fold_text("🔥", BUILTIN_FACE) == "🔥"  # nothing would be left: boxes beat an empty headline
    assert missing_glyphs("Café 中", BUILTIN_FACE) == {"é", "中"}
    assert missing_glyphs("Plain ASCII copy!", BUILTIN_FACE) == set()


def test_default_face_is_scalable() -> None:
    face = default_face()
    assert face in (BUILTIN_FACE, FontFace("DejaVu Sans", face.regular, face.bold))
    assert fit_text("Hi", 500, 500, max_size=300, min_size=10, face=face).size == 300


@pytest.mark.parametrize(
    "logo",
    [
        b"not an image",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        logo_png()[:60],
        b"",
    ],
    ids=["garbage", "png-signature-only", "truncated", "empty"],
)
def test_a_bad_logo_raises_render_error_naming_logo(logo: bytes) -> None:
    with pytest.raises(RenderError, match="logo"):
        render_image(creative(logo_png=logo), width=640, height=640)


def test_a_logo_that_is_not_png_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), LOGO_RGB).save(buffer, format="JPEG")
    with pytest.raises(RenderError, match="logo") as caught:
        render_image(creative(logo_png=buffer.getvalue()), width=640, height=640)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("width", "height", "name"), [(63, 640, "width"), (640, 4097, "height"), (0, 640, "width")])
def test_canvas_size_limits(width: int, height: int, name: str) -> None:
    with pytest.raises(RenderError, match=name):
        render_image(creative(), width=width, height=height)
    assert decode(render_image(creative(), width=64, height=64)).size == (64, 64)


def test_bad_copy_and_colours_are_refused() -> None:
    with pytest.raises(RenderError, match="headline"):
        creative(headline="   ")
    with pytest.raises(RenderError, match="primary"):
        Palette(primary="red", secondary=SECONDARY, background="#FFFFFF", text="#000000")
    with pytest.raises(RenderError, match="colors"):
        Palette.from_brand([])
    with pytest.raises(RenderError, match="safe_zone"):
        SafeZone(top_pct=50, bottom_pct=10, side_pct=5)
    with pytest.raises(RenderError, match="variant"):
        render_image(creative(), width=640, height=640, variant=-1)


def test_contrast_follows_wcag() -> None:
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)
    assert relative_luminance("#000000") == pytest.approx(0.0)
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    assert contrast_ratio("#777777", "#FFFFFF") < 4.5


@pytest.mark.parametrize(
    "colors",
    [
        [PRIMARY, SECONDARY, NEUTRAL],
        ["#1F4FFF", "#FFB400"],
        ["#FFD400", "#FFE066"],
        ["#E50914", "#221F1F", "#000000"],
        ["#777777"],
        ["#0B3D2E", "#F2C14E", "#F7F3E8", "#333333"],
    ],
)
def test_brand_palettes_have_legible_text(colors: list[str]) -> None:
    palette = Palette.from_brand(colors)
    assert palette.primary == colors[0]
    assert contrast_ratio(palette.text, palette.background) >= 4.5
    assert contrast_ratio(palette.on_primary, palette.primary) >= 4.5


def test_palette_choices() -> None:
    # Brand colours too light for text on white: black text.
    assert Palette.from_brand(["#FFD400", "#FFE066"]).text == "#000000"
    # A neutral listed after the signature colours becomes the background; no brand colour reads on it: white.
    dark = Palette.from_brand(["#E50914", "#221F1F", "#000000"])
    assert (dark.background, dark.text) == ("#000000", "#FFFFFF")
    # A brand colour that reads on the background is preferred to plain black.
    assert Palette.from_brand(["#0B3D2E", "#F2C14E", "#F7F3E8"]).text == "#0B3D2E"
    # A hand-made palette with unreadable text is drawn with white or black instead.
    poor = Palette(primary=PRIMARY, secondary=SECONDARY, background="#FFFFFF", text="#EEEEEE")
    assert poor.legible_text == "#000000"
    image = decode(render_image(creative(palette=poor), width=640, height=640))
    assert near(image, "#000000") > 500

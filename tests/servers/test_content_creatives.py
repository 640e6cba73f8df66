"""Image and video creatives through the tools: real PNGs at placement size, real H.264 MP4s, progress, library."""

import base64
import io
from typing import Any

import pytest
from fastmcp import Client
from mcp.types import ImageContent
from PIL import Image

from promptsales.domain_core.content.model.channel_specs import load_channel_specs
from promptsales.domain_core.content.render.video import probe_video
from tests.servers.conftest import Crm

SPECS = load_channel_specs()
BRIEF = "PromptSales Pro: cut campaign setup time by 60%. Book a demo"
BRAND = "#E6007E"
# A 40x40 red square as the logo.
LOGO = Image.new("RGB", (40, 40), "#D00000")


def logo_base64() -> str:
    out = io.BytesIO()
    LOGO.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def colour_share(image: Image.Image, hex_colour: str, tolerance: int = 40) -> float:
    """Share of pixels near a colour."""
    target = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    small = image.convert("RGB").resize((image.width // 4 or 1, image.height // 4 or 1))
    pixels = list(small.getdata())
    near = sum(1 for p in pixels if all(abs(a - b) <= tolerance for a, b in zip(p, target, strict=True)))
    return near / len(pixels)


@pytest.fixture
def content(client: Client) -> Crm:
    return Crm(client, prefix="content_")


@pytest.mark.parametrize("placement", ["meta_feed_square", "meta_feed_portrait", "meta_story", "google_rda_landscape"])
async def test_images_have_the_placement_size_the_brand_colour_and_are_not_blank(
    client: Client, content: Crm, placement: str
) -> None:
    await content.ok("set_brand_kit", name="Acme", colors=[BRAND, "#FFFFFF"], logo_png_base64=logo_base64())
    spec = SPECS.image(placement)
    result = await client.call_tool_mcp("content_generate_image", {"brief": BRIEF, "placement": placement})
    assert not result.is_error, result.content
    image_blocks = [b for b in result.content if isinstance(b, ImageContent)]
    assert len(image_blocks) == 1 and image_blocks[0].mime_type == "image/png"
    image = Image.open(io.BytesIO(base64.b64decode(image_blocks[0].data)))
    assert image.format == "PNG" and image.size == (spec.width, spec.height)
    assert colour_share(image, BRAND) > 0.01  # the brand colour is there
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20  # not a blank canvas
    created: dict[str, Any] = result.structured_content or {}
    assert (created["width"], created["height"], created["asset"]["kind"]) == (spec.width, spec.height, "image")
    stored = await client.read_resource(created["asset"]["file_uri"])
    assert stored[0].mime_type == "image/png"
    assert base64.b64decode(stored[0].blob) == base64.b64decode(image_blocks[0].data)


async def test_an_unknown_placement_lists_the_valid_ones(content: Crm) -> None:
    text = await content.error("generate_image", brief=BRIEF, placement="billboard_times_square")
    assert "placement" in text and "meta_feed_square" in text


async def test_a_video_is_h264_of_the_asked_length_with_progress_reported(client: Client, content: Crm) -> None:
    placement = "meta_story_video"
    spec = SPECS.video(placement)
    seconds = max(spec.min_seconds or 1.0, 3.0)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    result = await client.call_tool(
        "content_generate_video",
        {"placement": placement, "brief": BRIEF, "duration_seconds": seconds},
        progress_handler=on_progress,
    )
    created = result.structured_content
    assert created is not None
    assert (created["codec"], created["width"], created["height"]) == ("h264", spec.width, spec.height)
    assert abs(created["duration_seconds"] - seconds) <= 1 / 24 + 0.01
    assert created["frame_count"] == round(seconds * 24)
    assert progress and progress[-1][0] == progress[-1][1]  # finished
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    stored = await client.read_resource(created["asset"]["file_uri"])
    probe = probe_video(base64.b64decode(stored[0].blob))
    assert (probe.codec, probe.frame_count) == ("h264", created["frame_count"])


async def test_a_storyboard_drives_the_scenes_and_durations_are_bounded(content: Crm) -> None:
    storyboard = [
        {"headline": "Campaigns in minutes", "seconds": 1},
        {"headline": "60% less setup", "body": "Measured across 40 teams", "seconds": 1},
        {"headline": "Book a demo", "call_to_action": "Book now", "seconds": 1},
    ]
    placement = "meta_story_video"
    seconds = max(SPECS.video(placement).min_seconds or 1.0, 3.0)
    made = await content.ok("generate_video", placement=placement, storyboard=storyboard, duration_seconds=seconds)
    scenes = (await content.ok("get_asset", asset_id=made["asset"]["id"]))["versions"][0]["body"]["scenes"]
    assert [s["headline"] for s in scenes] == ["Campaigns in minutes", "60% less setup", "Book a demo"]
    too_long = min(SPECS.video(placement).max_seconds or 60.0, 60.0) + 1
    assert "duration_seconds" in await content.error(
        "generate_video", placement=placement, brief=BRIEF, duration_seconds=too_long
    )
    assert "brief" in await content.error("generate_video", placement=placement)

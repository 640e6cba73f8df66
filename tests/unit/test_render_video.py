"""Offline H.264 MP4 creatives: probed codec, size, duration and frames; progress; frames that move; bad input."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageChops, ImageStat

from promptsales.domain_core.content.render.image import Creative, compose
from promptsales.domain_core.content.render.layout import Palette
from promptsales.domain_core.content.render.video import (
    RenderError,
    Scene,
    probe_video,
    render_video,
    storyboard_from_brief,
)

PALETTE = Palette.from_brand(["#E4572E", "#17BEBB", "#FAFAF5"])
WIDTH, HEIGHT, FPS = 320, 568, 24
SCENES = storyboard_from_brief(
    "Summer sale: 40% off", "Light, breathable and built for distance.", "Shop now", total_seconds=3.0
)


@dataclass(frozen=True)
class Rendered:
    mp4: bytes
    path: Path
    progress: list[tuple[int, int]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    calls: list[tuple[int, int]] = []
    mp4 = render_video(
        SCENES, width=WIDTH, height=HEIGHT, palette=PALETTE, fps=FPS, progress=lambda d, t: calls.append((d, t))
    )
    path = tmp_path_factory.mktemp("video") / "creative.mp4"
    path.write_bytes(mp4)
    return Rendered(mp4, path, calls)


def frames(path: Path) -> Iterator[Image.Image]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    for raw in reader:
        yield Image.frombytes("RGB", meta["size"], raw)


def difference(a: Image.Image, b: Image.Image) -> float:
    return float(sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3)


def test_the_mp4_is_h264_of_the_asked_size_length_and_frame_count(rendered: Rendered) -> None:
    total = sum(s.seconds for s in SCENES)
    probe = probe_video(rendered.mp4)
    assert (probe.codec, probe.pix_fmt) == ("h264", "yuv420p")
    assert (probe.width, probe.height) == (WIDTH, HEIGHT)
    assert probe.fps == pytest.approx(FPS)
    assert probe.frame_count == round(total * FPS)
    assert abs(probe.duration_seconds - total) <= 1 / FPS
    assert rendered.mp4[4:8] == b"ftyp"
    # faststart: the index (moov) precedes the media data (mdat), so players can start before the download ends.
    assert rendered.mp4.find(b"moov") < rendered.mp4.find(b"mdat")


def test_progress_is_monotone_frequent_and_ends_at_total(rendered: Rendered) -> None:
    total = round(sum(s.seconds for s in SCENES) * FPS)
    calls = rendered.progress
    assert calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[0] >= 1
    gaps = [b - a for a, b in zip([0, *done], done, strict=False)]
    assert max(gaps) <= total * 0.1


def test_frames_are_the_scenes_drawn_like_images_and_they_move(rendered: Rendered) -> None:
    decoded = list(frames(rendered.path))
    assert len(decoded) == round(sum(s.seconds for s in SCENES) * FPS)
    first, last = decoded[0], decoded[-1]
    assert first.size == (WIDTH, HEIGHT)
    assert difference(first, last) > 5  # a different scene (and a longer progress bar)
    assert decoded[0].tobytes() != decoded[1].tobytes()  # even within a scene something moves

    def key(scene: Scene) -> Image.Image:
        item = Creative(scene.headline, body=scene.body, call_to_action=scene.call_to_action, palette=PALETTE)
        return compose(item, width=WIDTH, height=HEIGHT)

    # Away from the progress bar, frames match the PNG renderer's key frames up to compression.
    top = (0, 0, WIDTH, HEIGHT - 10)
    assert difference(first.crop(top), key(SCENES[0]).crop(top)) < 3
    assert difference(last.crop(top), key(SCENES[-1]).crop(top)) < 3
    assert difference(first.crop(top), key(SCENES[-1]).crop(top)) > 3


def test_a_fade_passes_through_intermediate_frames(tmp_path: Path) -> None:
    # Scenes whose key frames differ a lot (different copy on a dark canvas) make the blend measurable.
    dark = Palette(primary="#E4572E", secondary="#202020", background="#000000", text="#FFFFFF")
    scenes = [Scene("A", seconds=1.0), Scene("WWWWWWWW WWWWWWWW WWWWWWWW", seconds=1.0)]
    path = tmp_path / "fade.mp4"
    path.write_bytes(render_video(scenes, width=128, height=128, palette=dark, fps=10, transition_seconds=0.8))
    decoded = list(frames(path))
    start, end = decoded[2], decoded[-3]
    middle = decoded[10]  # the cut is at frame 10 of 20
    assert difference(start, end) > 5
    assert 1 < difference(middle, start) < difference(end, start)
    assert 1 < difference(middle, end) < difference(end, start)
    # transition_seconds=0: a hard cut, no frame in between.
    path.write_bytes(render_video(scenes, width=128, height=128, palette=dark, fps=10, transition_seconds=0))
    decoded = list(frames(path))
    assert len(decoded) == 20
    assert max(difference(decoded[9], decoded[2]), difference(decoded[10], decoded[-3])) < 1


def test_frame_count_rounds_the_total_length(tmp_path: Path) -> None:
    scenes = [Scene("One", seconds=0.7), Scene("Two", body="More", seconds=0.55)]
    probe = probe_video(render_video(scenes, width=96, height=96, palette=PALETTE, fps=12))
    assert probe.frame_count == round(1.25 * 12)
    assert abs(probe.duration_seconds - 1.25) <= 1 / 12


def test_storyboard_is_hook_benefit_call_to_action() -> None:
    scenes = storyboard_from_brief("Hook", "The benefit", "Buy now", 10.0)
    assert [s.headline for s in scenes] == ["Hook", "The benefit", "Hook"]
    assert [s.call_to_action for s in scenes] == [None, None, "Buy now"]
    assert [s.seconds for s in scenes] == [3.0, 4.0, 3.0]
    assert storyboard_from_brief("Hook", "The benefit", "Buy now", 10.0) == scenes
    odd = storyboard_from_brief("Hook", None, None, 7.3)
    assert len(odd) == 3 and odd[1].headline == "Hook"
    assert sum(s.seconds for s in odd) == pytest.approx(7.3, abs=1e-9)
    with pytest.raises(RenderError, match="total_seconds"):
        storyboard_from_brief("Hook", None, None, 0.5)


@pytest.mark.parametrize(("width", "height"), [(321, 568), (320, 567)])
def test_odd_dimensions_are_rejected(width: int, height: int) -> None:
    with pytest.raises(RenderError, match="even"):
        render_video(SCENES, width=width, height=height, palette=PALETTE)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"scenes": []}, "scenes"),
        ({"fps": 0}, "fps"),
        ({"fps": 24.5}, "fps"),
        ({"transition_seconds": -1}, "transition_seconds"),
        ({"width": 32}, "width"),
        ({"width": 2048}, "1920"),
        ({"logo_png": b"nope"}, "logo"),
    ],
)
def test_bad_video_input_is_refused(changes: dict[str, object], name: str) -> None:
    arguments: dict[str, object] = {"width": 128, "height": 128, "palette": PALETTE, **changes}
    scenes = arguments.pop("scenes", SCENES)
    with pytest.raises(RenderError, match=name):
        render_video(scenes, **arguments)  # type: ignore[arg-type]


def test_scene_lengths_are_checked() -> None:
    for seconds in (0, -1, float("nan"), 61):
        with pytest.raises(RenderError, match="seconds"):
            Scene("Hi", seconds=seconds)


def test_probe_refuses_what_is_not_a_video() -> None:
    with pytest.raises(RenderError, match="video"):
        probe_video(b"definitely not an mp4")
    with pytest.raises(RenderError, match="video"):
        probe_video(b"")

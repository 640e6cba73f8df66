"""H.264 MP4 creatives: scenes drawn like the PNG creatives, cross-faded, encoded with imageio-ffmpeg's ffmpeg.

Each scene's key frame is composed once with Pillow; frames are then the key frame (or a blend of two during
a transition) with a progress bar along the bottom edge growing frame by frame, so every frame differs.
CPU-bound and blocking (encoding runs ffmpeg as a subprocess): async callers should run it in a worker
thread, and a ``progress`` callback is then called on that thread.
"""

import bisect
import itertools
import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from promptsales.domain_core.content.render.color import Palette, hex_to_rgb
from promptsales.domain_core.content.render.errors import RenderError
from promptsales.domain_core.content.render.image import Creative, compose
from promptsales.domain_core.content.render.layout import SafeZone, check_canvas, decode_logo
from promptsales.domain_core.content.render.probe import VideoProbe, probe_video
from promptsales.domain_core.content.render.text import FontFace

__all__ = ["RenderError", "Scene", "VideoProbe", "probe_video", "render_video", "storyboard_from_brief"]

MAX_SCENES = 20
MAX_SCENE_SECONDS = 60.0
MAX_TOTAL_SECONDS = 180.0
MAX_TRANSITION_SECONDS = 5.0
# Full HD on the long side keeps H.264 within level 5.1 and a 15 s encode within seconds on 2 vCPUs.
MAX_VIDEO_SIDE = 1920
# veryfast: a 2-vCPU encode runs several times faster than real time; crf 23 (x264's default) suits flat graphics.
_ENCODER_OPTIONS = ["-preset", "veryfast", "-crf", "23", "-movflags", "+faststart"]
# Report progress at least this often (a fraction of all frames), besides the final (total, total).
_PROGRESS_STEP = 0.05


@dataclass(frozen=True)
class Scene:
    """One shot of a video: its copy and how long it is on screen."""

    headline: str
    _: KW_ONLY
    body: str | None = None
    call_to_action: str | None = None
    seconds: float

    def __post_init__(self) -> None:
        seconds = self.seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise RenderError(f"seconds: expected a number, got {seconds!r}")
        if not 0 < seconds <= MAX_SCENE_SECONDS:
            raise RenderError(f"seconds: expected more than 0 and at most {MAX_SCENE_SECONDS:g}, got {seconds!r}")


def storyboard_from_brief(
    headline: str, body: str | None, call_to_action: str | None, total_seconds: float
) -> list[Scene]:
    """Three scenes splitting ``total_seconds`` 30/40/30: hook (headline), benefit (body), call to action."""
    if isinstance(total_seconds, bool) or not isinstance(total_seconds, int | float):
        raise RenderError(f"total_seconds: expected a number, got {total_seconds!r}")
    if not 1.5 <= total_seconds <= MAX_TOTAL_SECONDS:
        raise RenderError(f"total_seconds: expected 1.5 to {MAX_TOTAL_SECONDS:g}, got {total_seconds!r}")
    # Always three scenes, so callers can rely on the shape: without a body the benefit scene holds the headline.
    hook = round(total_seconds * 0.3, 3)
    benefit = round(total_seconds * 0.4, 3)
    return [
        Scene(headline, seconds=hook),
        Scene(body if body and body.strip() else headline, seconds=benefit),
        Scene(headline, call_to_action=call_to_action, seconds=round(total_seconds - hook - benefit, 3)),
    ]


def _check(scenes: list[Scene], width: int, height: int, fps: int, transition_seconds: float) -> None:
    check_canvas(width, height)
    if width > MAX_VIDEO_SIDE or height > MAX_VIDEO_SIDE:
        raise RenderError(f"width/height: videos are at most {MAX_VIDEO_SIDE} px a side, got {width}x{height}")
    if width % 2 or height % 2:
        raise RenderError(f"width/height: H.264 in yuv420p needs even dimensions, got {width}x{height}")
    if not scenes or len(scenes) > MAX_SCENES or not all(isinstance(s, Scene) for s in scenes):
        raise RenderError(f"scenes: expected 1 to {MAX_SCENES} Scene objects")
    if sum(s.seconds for s in scenes) > MAX_TOTAL_SECONDS:
        raise RenderError(f"scenes: at most {MAX_TOTAL_SECONDS:g} seconds in all")
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
        raise RenderError(f"fps: expected an integer from 1 to 60, got {fps!r}")
    if not isinstance(transition_seconds, int | float) or not 0 <= transition_seconds <= MAX_TRANSITION_SECONDS:
        raise RenderError(f"transition_seconds: expected 0 to {MAX_TRANSITION_SECONDS:g}, got {transition_seconds!r}")


def _timeline(scenes: list[Scene], fps: int, transition: float) -> Iterator[tuple[int, int, float]]:
    """Per frame: the scene shown, the scene faded towards, and how far (0..1, eased)."""
    ends: list[float] = []
    for scene in scenes:
        ends.append((ends[-1] if ends else 0.0) + scene.seconds)
    # A fade is centred on its cut and takes at most half of each neighbouring scene, so fades never overlap.
    halves = [min(transition, a.seconds, b.seconds) / 2 for a, b in itertools.pairwise(scenes)]
    total = round(ends[-1] * fps)
    last = len(scenes) - 1
    for frame in range(total):
        t = (frame + 0.5) / fps
        k = min(bisect.bisect_right(ends, t), last)
        if k < last and halves[k] and t > ends[k] - halves[k]:
            a, start, half = k, ends[k] - halves[k], halves[k]
        elif k > 0 and halves[k - 1] and t < ends[k - 1] + halves[k - 1]:
            a, start, half = k - 1, ends[k - 1] - halves[k - 1], halves[k - 1]
        else:
            yield k, k, 0.0
            continue
        x = min(1.0, max(0.0, (t - start) / (2 * half)))
        yield a, a + 1, x * x * (3 - 2 * x)


class _KeyFrames:
    """Scene key frames, composed on first use; only the (at most two) scenes on screen are kept in memory."""

    def __init__(
        self, creatives: list[Creative], width: int, height: int, safe_zone: SafeZone | None, font: FontFace | None
    ) -> None:
        self._creatives, self._width, self._height = creatives, width, height
        self._safe_zone, self._font = safe_zone, font
        self._images: dict[int, Image.Image] = {}
        self._raw: dict[int, bytes] = {}

    def keep(self, *scenes: int) -> None:
        """Forget every key frame but those of ``scenes``."""
        for cache in (self._images, self._raw):
            for index in [i for i in cache if i not in scenes]:
                del cache[index]

    def image(self, index: int) -> Image.Image:
        """The key frame of scene ``index``."""
        if index not in self._images:
            self._images[index] = compose(
                self._creatives[index],
                width=self._width,
                height=self._height,
                safe_zone=self._safe_zone,
                font=self._font,
            )
        return self._images[index]

    def raw(self, index: int) -> bytes:
        """The key frame of scene ``index`` as RGB24 bytes."""
        if index not in self._raw:
            self._raw[index] = self.image(index).tobytes()
        return self._raw[index]


def _frames(
    keys: _KeyFrames, size: tuple[int, int], scenes: list[Scene], fps: int, transition: float, bar: bytes
) -> Iterator[bytes]:
    """Raw RGB24 frames: key frames or their blends, with the progress bar filled to the frame's position."""
    width, height = size
    row = width * 3
    bar_rows = max(2, round(height * 0.006))
    top = (height - bar_rows) * row
    timeline = list(_timeline(scenes, fps, transition))
    for index, (a, b, alpha) in enumerate(timeline):
        keys.keep(a, b)
        base = keys.raw(a) if a == b else Image.blend(keys.image(a), keys.image(b), alpha).tobytes()
        filled = round(width * (index + 1) / len(timeline))
        strip = base[top:]
        rows = (bar * filled + strip[r * row + filled * 3 : (r + 1) * row] for r in range(bar_rows))
        yield b"".join((base[:top], *rows))


def render_video(
    scenes: list[Scene],
    *,
    width: int,
    height: int,
    palette: Palette,
    logo_png: bytes | None = None,
    brand_name: str | None = None,
    fps: int = 24,
    transition_seconds: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
    safe_zone: SafeZone | None = None,
    font: FontFace | None = None,
) -> bytes:
    """H.264 MP4 bytes of round(sum(seconds) * fps) frames; ``progress(done, total)`` every 5% and when complete."""
    _check(scenes, width, height, fps, transition_seconds)
    # Copy and logo are checked before ffmpeg starts; key frames are then drawn as the timeline reaches them.
    creatives = [
        Creative(
            s.headline,
            body=s.body,
            call_to_action=s.call_to_action,
            palette=palette,
            logo_png=logo_png,
            brand_name=brand_name,
        )
        for s in scenes
    ]
    if logo_png is not None:
        decode_logo(logo_png)
    keys = _KeyFrames(creatives, width, height, safe_zone, font)
    total = round(sum(s.seconds for s in scenes) * fps)
    if total < 1:
        raise RenderError("scenes: shorter than one frame")
    step = max(1, math.floor(total * _PROGRESS_STEP))
    with tempfile.TemporaryDirectory(prefix="promptsales-video-") as folder:
        path = Path(folder) / "video.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path),
            (width, height),
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=fps,
            codec="libx264",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=list(_ENCODER_OPTIONS),
        )
        try:
            writer.send(None)
            frames = _frames(keys, (width, height), scenes, fps, transition_seconds, bytes(hex_to_rgb(palette.primary)))
            for done, frame in enumerate(frames, start=1):
                writer.send(frame)
                if progress is not None and done < total and (done % step == 0 or done == 1):
                    progress(done, total)
        except OSError as exc:
            raise RenderError(f"video: the encoder stopped ({exc})") from exc
        finally:
            # Closing flushes the encoder and waits for ffmpeg to write the file (or kills it on error).
            writer.close()
        data = path.read_bytes() if path.is_file() else b""
    if not data:
        raise RenderError("video: the encoder produced no file")
    if progress is not None:
        progress(total, total)
    return data

"""What an MP4 holds (codec, size, frame rate, duration, exact frame count), read with the bundled ffmpeg."""

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from promptsales.domain_core.content.render.errors import RenderError

__all__ = ["VideoProbe", "probe_video"]

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (.*)")
_PARENS = re.compile(r"\([^()]*\)")
_SIZE = re.compile(r"(\d+)x(\d+)\b")
_RATE = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)")
_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class VideoProbe:
    """The first video stream of a file as ffmpeg sees it; ``frame_count`` is counted by decoding."""

    codec: str
    width: int
    height: int
    fps: float
    duration_seconds: float
    frame_count: int
    pix_fmt: str


def _rate(parts: list[str]) -> float:
    rates: dict[str, float] = {}
    for part in parts:
        match = _RATE.fullmatch(part.strip())
        if match:
            rates[match[3]] = float(match[1]) * (1000 if match[2] else 1)
    return rates.get("fps", rates.get("tbr", 0.0))


def _parse(report: str) -> tuple[str, int, int, float, float, str]:
    stream = _VIDEO.search(report)
    duration = _DURATION.search(report)
    if stream is None or duration is None:
        raise RenderError("video: not a readable video file")
    # Drop parenthesised details first: "yuv420p(tv, progressive)" has commas of its own.
    details = stream[1]
    while _PARENS.search(details):
        details = _PARENS.sub("", details)
    parts = [part.strip() for part in details.split(",")]
    size = next((m for m in (_SIZE.fullmatch(p.split(" ")[0]) for p in parts[1:]) if m), None)
    if size is None:
        raise RenderError("video: the stream has no frame size")
    hours, minutes, seconds = duration.groups()
    total = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    pix_fmt = parts[1].split(" ")[0] if len(parts) > 1 else ""
    return parts[0].split(" ")[0], int(size[1]), int(size[2]), _rate(parts), total, pix_fmt


def probe_video(mp4: bytes) -> VideoProbe:
    """Codec, size, frame rate, container duration and decoded frame count of MP4 (or other video) bytes."""
    if not isinstance(mp4, bytes) or not mp4:
        raise RenderError("video: expected non-empty bytes")
    with tempfile.TemporaryDirectory(prefix="promptsales-probe-") as folder:
        path = Path(folder) / "video.mp4"
        path.write_bytes(mp4)
        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
        # "ffmpeg -i" without an output exits 1 after printing the input's description on stderr: expected.
        result = subprocess.run(  # noqa: S603 - fixed argv: the bundled binary and a file we created
            [exe, "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
        codec, width, height, fps, duration, pix_fmt = _parse(result.stderr.decode("utf-8", "replace"))
        try:
            frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        except RuntimeError as exc:
            raise RenderError(f"video: cannot count frames ({exc})") from exc
    return VideoProbe(codec, width, height, fps, duration, int(frames), pix_fmt)

"""Designs brought in from design platforms (Canva §12, Adobe Firefly Services §13 of platform_apis.md).

What the connectors share:

* :class:`DesignFile`: one exported design file (PNG or PDF bytes), ready to become an asset version in the content
  library; its ``source_url`` never carries a query string, because the platforms' download links are pre-signed
  (whoever holds the query can fetch the file) and so are secrets;
* :class:`DesignAssetsPlatform`: what the content context asks of any design platform (list, export, push a logo);
  the adapters are ``CanvaDesignAssets`` (canva/client.py) and ``FireflyDesignAssets`` (adobe_express/client.py),
  kept next to their clients so that this module imports neither;
* the mechanics both export flows need: bounded job polling (:class:`JobPolling`, :func:`poll_job`) on the caller's
  sleep and clock, and the download of a pre-signed file (:func:`download_design_file`): https only, to an allowed
  host, WITHOUT the platform's bearer token (a pre-signed URL carries its own authorisation; storage hosts refuse
  a second one), checked for size, content type and the format's magic number; and
  :func:`send_unless_throttled` for the job-starting POSTs, which take no idempotency key: sent once, resent only
  after a 429 (a refusal, so nothing was started);
* the typed errors of those steps (job failed, job timed out, download refused, operation unsupported), all
  :class:`ConnectorError` so the MCP error mapping handles them like any connector error.
"""

import builtins
import hashlib
import math
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import Field

from promptsales.domain_core.integrations.http import ConnectorHttp, Sleep
from promptsales.domain_core.integrations.model.errors import ConnectorError, RateLimited, platform_text
from promptsales.domain_core.integrations.views import FrozenView

DesignFormat = Literal["png", "pdf"]
DESIGN_FORMATS: tuple[DesignFormat, ...] = ("png", "pdf")
CONTENT_TYPES: Mapping[DesignFormat, str] = {"png": "image/png", "pdf": "application/pdf"}
# The first bytes of a valid file: the PNG signature (ISO/IEC 15948 §5.2) and the PDF header (ISO 32000 §7.5.2).
MAGIC: Mapping[DesignFormat, bytes] = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
# Storage hosts often label every object with a generic type; the magic number then decides.
GENERIC_CONTENT_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # Canva's own upload limit for images is 50 MB [canva.dev assets overview]


class DesignSummary(FrozenView):
    """One design a platform lists (metadata only; export it to get the file)."""

    platform: str
    design_id: str
    title: str | None = None
    page_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DesignFile(FrozenView):
    """One exported design file; ``bytes`` is left out of the repr and ``source_url`` has no query string."""

    platform: str
    design_id: str
    title: str | None = None
    format: DesignFormat
    content_type: str
    bytes: builtins.bytes = Field(min_length=1, repr=False)
    width: int | None = None
    height: int | None = None
    source_url: str | None = None

    @property
    def size(self) -> int:
        """The file's length in bytes."""
        return len(self.bytes)

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the file (the content library's version checksum)."""
        return hashlib.sha256(self.bytes).hexdigest()


class DesignAssetsPlatform(Protocol):
    """What the content context asks of a design platform.

    ``lists_designs`` says whether :meth:`list_designs` can answer (Firefly Services keeps no design list);
    ``push_brand_logo`` returns the platform's id of the stored logo, or None when the platform (or this connector)
    has nowhere to put it, with the reason in the adapter's docstring.
    """

    @property
    def platform(self) -> str:
        """The connector id (``canva``, ``adobe_express``)."""
        ...

    @property
    def lists_designs(self) -> bool:
        """Whether :meth:`list_designs` is supported."""
        ...

    async def list_designs(self, *, query: str | None = None, limit: int = 200) -> tuple[DesignSummary, ...]:
        """The user's designs, at most ``limit``."""
        ...

    async def export_design(self, design_id: str, format: DesignFormat) -> DesignFile:
        """Export one design and download the file."""
        ...

    async def push_brand_logo(self, png: builtins.bytes, name: str) -> str | None:
        """Store a brand logo on the platform; the platform's asset id, or None when it cannot take one."""
        ...


# --- errors ---------------------------------------------------------------------------------------------------------


class DesignJobFailed(ConnectorError):
    """A platform job (export, generation, upload) ended in failure; ``platform_code`` is the platform's reason."""

    code = "connector_job_failed"

    def __init__(
        self, *, platform: str, what: str, job_id: str, platform_code: str | None, message: str | None
    ) -> None:
        detail = platform_text(message) or platform_code
        hint = "Fix the cause the platform gives (plan, licence, approval, content), then start it again."
        if platform_code in ("internal_failure", "runtime_error", "timeout_error", "job_timeout"):
            hint = "The platform failed on its side; start it again later."
        super().__init__(platform=platform, summary=f"the {what} job {job_id} failed", detail=detail, hint=hint)
        # Set after the base initialiser, which may give every connector error a platform_code of its own.
        self.job_id = job_id
        self.platform_code = platform_code


class DesignJobTimedOut(ConnectorError):
    """A platform job did not finish within the polling budget (it may still finish later)."""

    code = "connector_job_timeout"

    def __init__(self, *, platform: str, what: str, job_id: str, polls: int, waited_s: float) -> None:
        summary = f"the {what} job {job_id} did not finish within {math.ceil(waited_s)} s ({polls} status checks)"
        super().__init__(
            platform=platform,
            summary=summary,
            hint="It may still finish on the platform: check again later, or start a new one.",
            attempts=polls,
        )
        self.job_id = job_id
        self.polls = polls


class DesignDownloadRefused(ConnectorError):
    """An exported file was not taken: too large, not the expected type, from a host not allowed, or unreachable.

    The message never holds the download URL (pre-signed URLs are credentials).
    """

    code = "connector_download_refused"

    def __init__(self, *, platform: str, reason: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(
            platform=platform,
            summary=f"the exported file was not downloaded: {reason}",
            status=status,
            hint=hint or "Export the design again; if it keeps failing, check the design on the platform.",
        )


class DesignOperationUnsupported(ConnectorError):
    """The platform's API offers no way to do this (what it offers instead is in the message)."""

    code = "connector_unsupported"

    def __init__(self, *, platform: str, operation: str, reason: str) -> None:
        super().__init__(
            platform=platform,
            summary=f"{operation} is not possible through its API: {reason}",
            hint="Do it in the platform's own app, or use another connected design platform.",
        )


# --- job polling ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobPolling:
    """How long to wait for a platform job: first wait, growth, cap, and two hard bounds (checks and seconds)."""

    first_wait_s: float = 1.0
    factor: float = 1.5
    max_wait_s: float = 5.0
    max_polls: int = 60
    deadline_s: float = 180.0

    def __post_init__(self) -> None:
        if self.max_polls < 1:
            raise ValueError("max_polls must be at least 1")
        if self.factor < 1 or not math.isfinite(self.factor):
            raise ValueError("factor must be a finite number >= 1")
        for name in ("first_wait_s", "max_wait_s", "deadline_s"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive finite number")


JobT = TypeVar("JobT")


async def poll_job(
    fetch: Callable[[], Awaitable[JobT]],
    *,
    first: JobT,
    done: Callable[[JobT], bool],
    polling: JobPolling,
    sleep: Sleep,
    clock: Callable[[], float],
    platform: str,
    what: str,
    job_id: str,
) -> JobT:
    """``first`` (the job as its create call answered it) re-fetched until ``done``, within ``polling``'s bounds.

    Raises :class:`DesignJobTimedOut` instead of waiting past ``max_polls`` checks or ``deadline_s`` seconds.
    """
    job = first
    started = clock()
    polls = 0
    wait = polling.first_wait_s
    while not done(job):
        waited = clock() - started
        if polls >= polling.max_polls or waited + wait > polling.deadline_s:
            raise DesignJobTimedOut(platform=platform, what=what, job_id=job_id, polls=polls, waited_s=waited)
        await sleep(wait)
        job = await fetch()
        polls += 1
        wait = min(polling.max_wait_s, wait * polling.factor)
    return job


# --- downloads ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    """What a download may be: at most ``max_bytes``, from https hosts equal to or under one of ``hosts``."""

    hosts: tuple[str, ...]
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if not self.hosts or any(not h or h != h.lower().strip(".") for h in self.hosts):
            raise ValueError("hosts must be lowercase host names without leading or trailing dots")

    def allows(self, host: str) -> bool:
        """Whether ``host`` is one of the hosts or a subdomain of one (on a dot boundary: evilcanva.com is not)."""
        host = host.lower().rstrip(".")
        return any(host == allowed or host.endswith("." + allowed) for allowed in self.hosts)


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    """The bytes of a download and what the host said they are."""

    content: bytes
    content_type: str
    source_url: str  # without query string or fragment

    def __repr__(self) -> str:
        return f"DownloadedFile({len(self.content)} bytes, {self.content_type!r}, {self.source_url!r})"


def public_url(url: str) -> str:
    """``url`` without its query string and fragment (what may be stored and shown of a pre-signed URL)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def sniff_format(content: bytes) -> DesignFormat | None:
    """The design format whose magic number ``content`` starts with, if any."""
    for name in DESIGN_FORMATS:
        if content.startswith(MAGIC[name]):
            return name
    return None


def png_size(content: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (the first chunk, right after the signature), if well formed."""
    if len(content) < 24 or not content.startswith(MAGIC["png"]) or content[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", content[16:24])
    return (width, height) if width > 0 and height > 0 else None


async def download_design_file(
    files: ConnectorHttp,
    url: str,
    *,
    expected: Iterable[str],
    limits: DownloadLimits,
) -> DownloadedFile:
    """GET a pre-signed file URL through ``files`` (a ConnectorHttp WITHOUT auth: the URL carries its own).

    ``expected``: the content types accepted (generic octet-stream types are accepted too; the caller checks the
    magic number). Raises :class:`DesignDownloadRefused`, never naming the URL, when the URL is not https on an
    allowed host, the host fails or refuses, the file is over ``limits.max_bytes`` or of another type.
    """
    platform = files.platform
    accepted = tuple(expected)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise DesignDownloadRefused(platform=platform, reason="the platform gave a download link that is not https")
    if not limits.allows(parts.hostname):
        raise DesignDownloadRefused(
            platform=platform,
            reason=f"the download host {parts.hostname} is not one this connector downloads from",
            hint="If the platform moved its file host, add it to the connector's download hosts.",
        )
    try:
        # The whole URL goes as it came: re-encoding the query would break its signature. ConnectorHttp logs URLs
        # without their query string and puts no URL in its errors.
        response = await files.request("GET", url, headers={"Accept": ", ".join(accepted) + ", */*;q=0.1"})
    except ConnectorError as error:
        # The policy's error blames credentials or ids that do not apply to a pre-signed link; keep its status only.
        status = error.status
        reason = f"the file host answered HTTP {status}" if status else "the file host could not be reached"
        if status in (401, 403, 404, 410):
            reason += " (the link may have expired)"
        raise DesignDownloadRefused(platform=platform, reason=reason, status=status) from None
    declared = response.headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > limits.max_bytes) or len(response.content) > limits.max_bytes:
        raise DesignDownloadRefused(
            platform=platform,
            reason=f"it is larger than the {limits.max_bytes:,}-byte limit",
            hint="Export fewer pages or a smaller size, or raise the connector's download limit.",
        )
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in set(accepted) | GENERIC_CONTENT_TYPES:
        raise DesignDownloadRefused(platform=platform, reason=f"the host sent {content_type or 'no content type'}")
    if not response.content:
        raise DesignDownloadRefused(platform=platform, reason="the host sent an empty file")
    return DownloadedFile(response.content, content_type, public_url(url))


def checked_design_file(
    downloaded: DownloadedFile,
    *,
    platform: str,
    platform_name: str,
    design_id: str,
    title: str | None,
    format: DesignFormat,
) -> DesignFile:
    """A :class:`DesignFile` from a download whose magic number is ``format``'s (else DesignDownloadRefused)."""
    if sniff_format(downloaded.content) != format:
        raise DesignDownloadRefused(platform=platform_name, reason=f"the file is not a {format.upper()}")
    size = png_size(downloaded.content) if format == "png" else None
    content_type = CONTENT_TYPES[format]  # the checked type, not a storage host's generic label
    return DesignFile(
        platform=platform,
        design_id=design_id,
        title=title,
        format=format,
        content_type=content_type,
        bytes=downloaded.content,
        width=size[0] if size else None,
        height=size[1] if size else None,
        source_url=downloaded.source_url,
    )


async def send_unless_throttled(
    http: ConnectorHttp,
    method: str,
    path: str,
    *,
    sleep: Sleep,
    json_body: object = None,
    content: builtins.bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send a write the policy sends once (no idempotency key) and resend it only after a platform's 429.

    A 429 is a refusal: the platform did nothing, so waiting its ``Retry-After`` and sending again cannot make a
    second export or generation, whereas a 5xx or a timeout might have (those still raise at once). The waits
    follow the request policy: at most ``max_attempts`` sends, and no wait that would end past ``deadline_s``.
    """
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return await http.request(method, path, json_body=json_body, content=content, headers=headers)
        except RateLimited as refused:
            wait = refused.retry_after_seconds
            if refused.status != 429 or wait is None or attempt >= http.policy.max_attempts:
                raise
            if waited + wait >= http.policy.deadline_s:
                raise
            waited += wait
            await sleep(wait)

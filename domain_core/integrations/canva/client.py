"""A Canva Connect API (REST v1) client over :class:`ConnectorHttp`: designs, export jobs and their files.

Wire shapes: shared/reference/platform_apis.md §12. Where §12 is silent the fields come from Canva's OpenAPI
description (canva-sdks/canva-connect-api-starter-kit ``openapi/spec.yml``, API version 2024-06-18, read Aug 2026),
marked [spec]:

* base ``https://api.canva.com/rest/v1``; auth ``Authorization: Bearer <access token>`` from OAuth 2.0
  Authorization Code + PKCE (§12 "Auth"), carried by the ConnectorHttp's ``auth``;
* list designs: ``GET /v1/designs?continuation=&query=&ownership=any|owned|shared&sort_by=&limit=1..100`` →
  ``{items:[Design], continuation?}``; more pages while ``continuation`` is present [spec listDesigns];
  scope ``design:meta:read``, 100 requests/min/user [spec];
* get design: ``GET /v1/designs/{designId}`` → ``{design:{id, title?, owner, thumbnail?{width, height, url},
  urls{edit_url, view_url}, created_at, updated_at (Unix seconds), page_count?}}`` [spec getDesign]; ids match
  ``^[a-zA-Z0-9_-]{1,50}$`` [spec];
* export: ``POST /v1/exports`` ``{design_id, format:{type: png|pdf, pages?, export_quality?, width?, height?,
  as_single_image?, size?}}`` → ``{job:{id, status}}``; ``GET /v1/exports/{exportId}`` → ``{job:{id,
  status: in_progress|success|failed, urls?[], error?{code, message}}}`` (§12 "Export"; status and error [spec]).
  One URL per page unless ``pages`` names one page [spec]; URLs valid 24 h (§12), on ``export-download.canva.com``
  [spec example]. Throttles: per user 75 exports / 5 min and 500 / 24 h, per design 75 / 5 min, per app 750 / 5
  min (§12). Scope ``design:content:read`` [spec];
* errors ``{code, message}`` (§12 "Errors"; read by :class:`ErrorBody`), 401 ``invalid_access_token`` /
  ``revoked_access_token`` [spec]; 429 when throttled (§12), ``Retry-After`` not stated [~].

Idempotency: none (§12, connectors.json ``idempotency_header: null``), so ``POST /v1/exports`` is sent once: a
5xx or a timeout raises (the job may exist; a new export is harmless but spends the 75/5 min allowance). Only a
429 is resent, after its wait (:func:`send_unless_throttled`): a refusal made nothing.

Exported files are downloaded from the pre-signed URL through a second ConnectorHttp WITHOUT the bearer token
(same transport, sleep and clock; :func:`download_design_file`); the URL's query is a credential and is kept out of
every view, error and log (``ExportJob.urls`` is left out of reprs, ``DesignFile.source_url`` has no query).

Brand kits: the Canva Connect API has no brand-kit endpoints (none in the OpenAPI description; §12 lists no brand
scope beyond brand templates), so a Brand Kit's colours, fonts and logos can be neither read nor written. Nearest:
brand templates (``GET /v1/brand-templates``, ``…/{id}``, ``…/{id}/dataset``; scopes ``brandtemplate:meta:read``,
``brandtemplate:content:read``; plans with brand templates: Pro, Teams, Enterprise [spec]; autofill needs an
Enterprise org, §12), publishing a design as a brand template (preview API, ``brandtemplate:content:write``
[spec]), and uploading an image into the user's uploads (``POST /v1/asset-uploads``, ``application/octet-stream``
body + ``Asset-Upload-Metadata: {"name_base64": …}`` header, name ≤ 50 characters, then ``GET
/v1/asset-uploads/{jobId}``; scope ``asset:write``, 30 requests/min/user [spec]). A logo is uploaded that way
(:meth:`CanvaClient.upload_asset`), into the uploads, not into the Brand Kit. Like an export, an upload takes no
idempotency key: it is sent once (a resend could make a second copy) and resent only after a 429.
"""

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from promptsales.domain_core.integrations.design_assets import (
    CONTENT_TYPES,
    DEFAULT_MAX_BYTES,
    DesignDownloadRefused,
    DesignFile,
    DesignFormat,
    DesignJobFailed,
    DesignSummary,
    DownloadedFile,
    DownloadLimits,
    JobPolling,
    checked_design_file,
    download_design_file,
    poll_job,
    send_unless_throttled,
)
from promptsales.domain_core.integrations.http import AuthHeaders, ConnectorHttp, Sleep
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

PLATFORM = "canva"
PAGE_SIZE_MAX = 100  # [spec listDesigns] limit 1..100 (default 25)
QUERY_MAX = 255  # [spec listDesigns] query maxLength 255
EXPORT_SIZE_MIN, EXPORT_SIZE_MAX = 40, 25_000  # [spec PngExportFormat] width/height 40..25000
DESIGNS_MAX = 10_000  # our bound on one listing, so a platform looping its continuation cannot hold a call forever
# Where export files live: export-download.canva.com [spec ExportJob.urls example]; the sandbox simulator's host.
LIVE_FILE_HOST = "canva.com"
SANDBOX_FILE_HOST = "export-download.canva.sandbox.promptsales.invalid"
_SANDBOX_SUFFIX = ".sandbox.promptsales.invalid"
_ID = re.compile(r"[a-zA-Z0-9_-]{1,50}")  # [spec] designId / exportId / jobId pattern
ASSET_NAME_MAX = 50  # [spec AssetUploadMetadata] name ≤ 50 characters (unencoded)
ASSET_BYTES_MAX = 50 * 1024 * 1024  # [canva.dev assets overview] images < 50 MB
# Image types the asset upload takes, by magic number [canva.dev assets overview: JPEG, PNG, …].
_UPLOAD_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

Ownership = Literal["any", "owned", "shared"]
SortBy = Literal["relevance", "modified_descending", "modified_ascending", "title_descending", "title_ascending"]


def _check_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{field} must be 1-50 letters, digits, '_' or '-' (a Canva id)")
    return value


class CanvaThumbnail(FrozenView):
    """A design's thumbnail size (its URL expires after 15 minutes [spec] and is not kept)."""

    width: int
    height: int


class CanvaDesignLinks(FrozenView):
    """Temporary links for the user who made the request (valid 30 days [spec]); left out of reprs."""

    edit_url: str | None = Field(default=None, repr=False)
    view_url: str | None = Field(default=None, repr=False)


class CanvaDesign(FrozenView):
    """One design's metadata as Canva returns it."""

    id: str
    title: str | None = None
    page_count: int | None = None
    created_at: datetime | None = None  # Unix seconds on the wire
    updated_at: datetime | None = None
    thumbnail: CanvaThumbnail | None = None
    urls: CanvaDesignLinks | None = None

    def summary(self) -> DesignSummary:
        """The platform-neutral summary of this design."""
        return DesignSummary(
            platform=PLATFORM,
            design_id=self.id,
            title=self.title,
            page_count=self.page_count,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class CanvaDesignPage(FrozenView):
    """One page of the design list; ``continuation`` fetches the next (None on the last)."""

    designs: tuple[CanvaDesign, ...]
    continuation: str | None = Field(default=None, repr=False)


class CanvaJobError(FrozenView):
    """Why a job failed: Canva's code (``license_required``, ``approval_required``, ``internal_failure`` [spec])."""

    code: str | None = None
    message: str | None = None


class CanvaExportJob(FrozenView):
    """An export job; ``urls`` (pre-signed, one per page) are left out of reprs."""

    id: str
    status: str  # in_progress | success | failed [spec DesignExportStatus]
    urls: tuple[str, ...] = Field(default=(), repr=False)
    error: CanvaJobError | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended (anything but ``in_progress``)."""
        return self.status != "in_progress"


class CanvaAsset(FrozenView):
    """An asset in the user's uploads."""

    id: str
    name: str | None = None
    type: str | None = None


class CanvaAssetUploadJob(FrozenView):
    """An asset upload job: ``asset`` once it succeeded, ``error`` (``file_too_big``, ``import_failed`` [spec]) if
    it failed."""

    id: str
    status: str  # in_progress | success | failed [spec AssetUploadStatus]
    asset: CanvaAsset | None = None
    error: CanvaJobError | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended (anything but ``in_progress``)."""
        return self.status != "in_progress"


class CanvaExportFormat(FrozenView):
    """The ``format`` of an export (PNG or PDF; the other types Canva offers are not design files here)."""

    type: DesignFormat
    pages: tuple[int, ...] = ()  # 1-based; empty: every page
    export_quality: Literal["regular", "pro"] | None = None
    width: int | None = Field(default=None, ge=EXPORT_SIZE_MIN, le=EXPORT_SIZE_MAX)  # png only
    height: int | None = Field(default=None, ge=EXPORT_SIZE_MIN, le=EXPORT_SIZE_MAX)  # png only
    as_single_image: bool | None = None  # png only: merge pages into one image
    size: Literal["a4", "a3", "letter", "legal"] | None = None  # pdf only (Canva Docs)

    @model_validator(mode="after")
    def _fits_type(self) -> Self:
        if any(page < 1 for page in self.pages) or len(set(self.pages)) != len(self.pages):
            raise ValueError("pages are distinct page numbers from 1")
        if self.type == "pdf" and (self.width or self.height or self.as_single_image is not None):
            raise ValueError("width, height and as_single_image apply to png exports only")
        if self.type == "png" and self.size is not None:
            raise ValueError("size (paper size) applies to pdf exports only")
        return self

    def wire(self) -> dict[str, Any]:
        """The JSON ``format`` object."""
        body: dict[str, Any] = {"type": self.type}
        if self.pages:
            body["pages"] = list(self.pages)
        for name in ("export_quality", "width", "height", "as_single_image", "size"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"Canva answered {what} with something other than an object")
    return document


def _job(document: Any, what: str) -> CanvaExportJob:
    return CanvaExportJob.model_validate(_object(_object(document, what).get("job"), what))


def _upload_job(document: Any) -> CanvaAssetUploadJob:
    return CanvaAssetUploadJob.model_validate(_object(_object(document, "an upload").get("job"), "an upload"))


def download_limits(base_url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DownloadLimits:
    """The file hosts an export may come from: Canva's, plus the simulator's when ``base_url`` is the sandbox."""
    hosts: tuple[str, ...] = (LIVE_FILE_HOST,)
    if (urlsplit(base_url).hostname or "").endswith(_SANDBOX_SUFFIX):
        hosts += (SANDBOX_FILE_HOST,)
    return DownloadLimits(hosts=hosts, max_bytes=max_bytes)


class CanvaClient:
    """Designs and exports for one Canva user (the ConnectorHttp carries the user's token; ``files`` has none)."""

    def __init__(
        self,
        http: ConnectorHttp,
        *,
        files: ConnectorHttp | None = None,
        polling: JobPolling | None = None,
        limits: DownloadLimits | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._files = files
        self._polling = polling or JobPolling()
        self._limits = limits or DownloadLimits(hosts=(LIVE_FILE_HOST,))
        self._sleep: Sleep = sleep
        self._clock = clock

    @classmethod
    def connect(
        cls,
        *,
        tenant_id: str,
        auth: AuthHeaders,
        base_url: str | None = None,
        polling: JobPolling | None = None,
        max_download_bytes: int = DEFAULT_MAX_BYTES,
        **http_options: Any,
    ) -> Self:
        """A client on ``base_url`` (default: the live API) with its file-host ConnectorHttp on the same transport.

        ``http_options`` go to both ConnectorHttps (transport, policy, sleep, clock, …); the file host gets no auth
        and spends no platform budget (downloads are not API calls).
        """
        connector = get_connector(PLATFORM)
        base = base_url or connector.live_base_url
        http = ConnectorHttp(connector, base_url=base, tenant_id=tenant_id, auth=auth, **http_options)
        file_options = {name: value for name, value in http_options.items() if name != "budget"}
        files = ConnectorHttp(connector, base_url=base, tenant_id=tenant_id, **file_options)
        return cls(
            http,
            files=files,
            polling=polling,
            limits=download_limits(base, max_bytes=max_download_bytes),
            sleep=http_options.get("sleep", asyncio.sleep),
            clock=http_options.get("clock", time.monotonic),
        )

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._http.aclose()
        if self._files is not None:
            await self._files.aclose()

    # --- designs -------------------------------------------------------------------------------------------------

    async def designs_page(
        self,
        *,
        continuation: str | None = None,
        query: str | None = None,
        ownership: Ownership = "any",
        sort_by: SortBy | None = None,
        limit: int = PAGE_SIZE_MAX,
    ) -> CanvaDesignPage:
        """One page of the user's designs (owned and/or shared), optionally searched by ``query``."""
        if not 1 <= limit <= PAGE_SIZE_MAX:
            raise ValueError(f"limit must be 1-{PAGE_SIZE_MAX}")
        params = {"limit": str(limit), "ownership": ownership}
        if query is not None:
            if not 0 < len(query) <= QUERY_MAX:
                raise ValueError(f"query must be 1-{QUERY_MAX} characters")
            params["query"] = query
        if sort_by is not None:
            params["sort_by"] = sort_by
        if continuation is not None:
            params["continuation"] = continuation
        response = await self._http.request("GET", "/designs", params=params)
        document = _object(response.json(), "a design list")
        token = document.get("continuation")
        return CanvaDesignPage(
            designs=tuple(CanvaDesign.model_validate(item) for item in document.get("items") or []),
            continuation=token if isinstance(token, str) and token else None,
        )

    async def designs(
        self,
        *,
        query: str | None = None,
        ownership: Ownership = "any",
        sort_by: SortBy | None = None,
        page_size: int = PAGE_SIZE_MAX,
        max_designs: int = DESIGNS_MAX,
    ) -> AsyncIterator[CanvaDesign]:
        """Every design, following ``continuation`` to the last page (at most ``max_designs``)."""
        if not 1 <= max_designs <= DESIGNS_MAX:
            raise ValueError(f"max_designs must be 1-{DESIGNS_MAX}")
        seen: set[str] = set()
        continuation: str | None = None
        count = 0
        while True:
            page = await self.designs_page(
                continuation=continuation, query=query, ownership=ownership, sort_by=sort_by, limit=page_size
            )
            for design in page.designs:
                yield design
                count += 1
                if count >= max_designs:
                    return
            # A token seen before would loop forever: the listing ends there.
            if page.continuation is None or page.continuation in seen:
                return
            seen.add(page.continuation)
            continuation = page.continuation

    async def list_designs(
        self, *, query: str | None = None, ownership: Ownership = "any", max_designs: int = DESIGNS_MAX
    ) -> list[CanvaDesign]:
        """The user's designs as one list (every page read)."""
        return [design async for design in self.designs(query=query, ownership=ownership, max_designs=max_designs)]

    async def get_design(self, design_id: str) -> CanvaDesign:
        """One design's metadata."""
        response = await self._http.request("GET", f"/designs/{_check_id(design_id, 'design_id')}")
        return CanvaDesign.model_validate(_object(_object(response.json(), "a design").get("design"), "a design"))

    # --- exports -------------------------------------------------------------------------------------------------

    async def start_export(self, design_id: str, export_format: CanvaExportFormat) -> CanvaExportJob:
        """Start an export job (sent once; resent only after a 429, which made nothing)."""
        body = {"design_id": _check_id(design_id, "design_id"), "format": export_format.wire()}
        response = await send_unless_throttled(self._http, "POST", "/exports", sleep=self._sleep, json_body=body)
        return _job(response.json(), "an export")

    async def export_job(self, job_id: str) -> CanvaExportJob:
        """The export job's current state."""
        response = await self._http.request("GET", f"/exports/{_check_id(job_id, 'job_id')}")
        return _job(response.json(), "an export job")

    async def wait_for_export(self, job: CanvaExportJob) -> CanvaExportJob:
        """``job`` polled until it succeeds; :class:`DesignJobFailed` with Canva's reason if it fails,
        :class:`DesignJobTimedOut` if it is still running when the polling budget is spent."""
        finished = await poll_job(
            lambda: self.export_job(job.id),
            first=job,
            done=lambda j: j.done,
            polling=self._polling,
            sleep=self._sleep,
            clock=self._clock,
            platform=self._http.platform,
            what="export",
            job_id=job.id,
        )
        if finished.status != "success":
            error = finished.error or CanvaJobError(code=None, message=f"the job ended as '{finished.status}'")
            raise DesignJobFailed(
                platform=self._http.platform,
                what="export",
                job_id=finished.id,
                platform_code=error.code,
                message=error.message,
            )
        return finished

    async def download(self, url: str, export_type: DesignFormat) -> DownloadedFile:
        """The bytes behind one export URL (no bearer token sent; size, type and host checked)."""
        if self._files is None:
            raise ValueError("this CanvaClient has no file-host ConnectorHttp: build it with CanvaClient.connect")
        return await download_design_file(self._files, url, expected=(CONTENT_TYPES[export_type],), limits=self._limits)

    async def export_design(
        self,
        design_id: str,
        format: DesignFormat,
        *,
        page: int = 1,
        export_quality: Literal["regular", "pro"] | None = None,
    ) -> DesignFile:
        """Export ``design_id`` and download it: a PNG of one ``page`` (default the first), or the whole PDF."""
        if page < 1:
            raise ValueError("page must be 1 or more")
        design = await self.get_design(design_id)
        pages = (page,) if format == "png" else ()
        job = await self.start_export(
            design.id, CanvaExportFormat(type=format, pages=pages, export_quality=export_quality)
        )
        finished = await self.wait_for_export(job)
        if not finished.urls:
            raise DesignDownloadRefused(platform=self._http.platform, reason="the finished export named no file")
        downloaded = await self.download(finished.urls[0], format)
        return checked_design_file(
            downloaded,
            platform=PLATFORM,
            platform_name=self._http.platform,
            design_id=design.id,
            title=design.title,
            format=format,
        )

    # --- asset uploads -------------------------------------------------------------------------------------------

    async def start_asset_upload(self, image: bytes, name: str) -> CanvaAssetUploadJob:
        """Start uploading a PNG or JPEG into the user's uploads (sent once; resent only after a 429)."""
        if not 0 < len(name) <= ASSET_NAME_MAX:
            raise ValueError(f"name must be 1-{ASSET_NAME_MAX} characters (Canva's limit for asset names)")
        if not image.startswith(_UPLOAD_MAGIC):
            raise ValueError("image must be a PNG or a JPEG")
        if len(image) > ASSET_BYTES_MAX:
            raise ValueError(f"image must be under {ASSET_BYTES_MAX:,} bytes (Canva's limit for images)")
        # The name travels Base64-encoded in a JSON header so any character survives HTTP headers [spec].
        metadata = {"name_base64": base64.b64encode(name.encode()).decode()}
        headers = {"Content-Type": "application/octet-stream", "Asset-Upload-Metadata": json.dumps(metadata)}
        response = await send_unless_throttled(
            self._http, "POST", "/asset-uploads", sleep=self._sleep, content=image, headers=headers
        )
        return _upload_job(response.json())

    async def asset_upload_job(self, job_id: str) -> CanvaAssetUploadJob:
        """The upload job's current state."""
        response = await self._http.request("GET", f"/asset-uploads/{_check_id(job_id, 'job_id')}")
        return _upload_job(response.json())

    async def upload_asset(self, image: bytes, name: str) -> CanvaAsset:
        """Upload an image and wait for the asset; :class:`DesignJobFailed` with Canva's reason if refused."""
        job = await self.start_asset_upload(image, name)
        finished = await poll_job(
            lambda: self.asset_upload_job(job.id),
            first=job,
            done=lambda j: j.done,
            polling=self._polling,
            sleep=self._sleep,
            clock=self._clock,
            platform=self._http.platform,
            what="asset upload",
            job_id=job.id,
        )
        if finished.status != "success" or finished.asset is None:
            error = finished.error or CanvaJobError(code=None, message=f"the job ended as '{finished.status}'")
            raise DesignJobFailed(
                platform=self._http.platform,
                what="asset upload",
                job_id=finished.id,
                platform_code=error.code,
                message=error.message,
            )
        return finished.asset


class CanvaDesignAssets:
    """:class:`~promptsales.domain_core.integrations.design_assets.DesignAssetsPlatform` over a CanvaClient."""

    platform = PLATFORM
    lists_designs = True

    def __init__(self, client: CanvaClient) -> None:
        self._client = client

    async def list_designs(self, *, query: str | None = None, limit: int = 200) -> tuple[DesignSummary, ...]:
        """The user's designs (owned and shared), at most ``limit``."""
        designs = await self._client.list_designs(query=query, max_designs=limit)
        return tuple(design.summary() for design in designs)

    async def export_design(self, design_id: str, format: DesignFormat) -> DesignFile:
        """The design as a PNG of its first page, or as a PDF of every page."""
        return await self._client.export_design(design_id, format)

    async def push_brand_logo(self, png: bytes, name: str) -> str | None:
        """Upload the logo into the user's Canva uploads; its asset id.

        Canva has no Brand Kit API (module docstring): the logo becomes an upload the user can place in designs,
        not a Brand Kit logo, and brand colours cannot be pushed at all.
        """
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("png must be a PNG file")
        return (await self._client.upload_asset(png, name)).id

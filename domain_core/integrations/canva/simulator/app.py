"""The Canva Connect API (REST v1) in memory: designs, export jobs, asset uploads and the export file host.

Shapes follow shared/reference/platform_apis.md §12, and Canva's OpenAPI description where §12 is silent [spec]
(see canva/client.py). Each access token belongs to one account (a Canva user); accounts share nothing.

* Auth: ``Authorization: Bearer <token>``. No header: 401 ``{code:"invalid_request", message:"Access token is
  missing from the request."}``; an unknown token: 401 ``invalid_access_token``; a revoked one: 401
  ``revoked_access_token`` [spec examples]. The token is never echoed.
* Errors: ``{code, message}`` (§12) with the codes of the spec (``design_not_found``, ``bad_request_body``,
  ``invalid_request``, ``not_found``, ``too_many_requests``, ``invalid_header_value``, …).
* Rate: exports per user 75 / 5 min (and per design 75 / 5 min) (§12 "Throttles"); list designs 100 / min / user
  [spec]. Over a limit: 429 ``too_many_requests`` with ``Retry-After`` seconds to when the window frees a slot
  [~: §12 does not say Canva sends Retry-After].
* Jobs: an export (or asset upload) answers ``in_progress`` for ``job_polls`` status checks, then ``success`` with
  one pre-signed URL per exported page (or ``failed`` with ``{code, message}`` when :meth:`fail_export` said so);
  :meth:`stall_export` keeps a design's exports in progress forever.
* Files: served on ``file_host`` (``export-download.canva.com`` in live [spec example]) at pre-signed URLs with
  S3-style query parameters [~]; valid 24 hours (§12). A request with an ``Authorization`` header is refused as S3
  refuses a second auth mechanism [~], an altered signature or an expired link answers 403 (XML body).
* Faults: :meth:`fail_next` (the next API requests answer a status; 429 with ``retry_after``),
  :meth:`fail_download` (the file host answers a status).
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Host, Mount, Route, Router

from promptsales.domain_core.integrations.canva.client import SANDBOX_FILE_HOST
from promptsales.domain_core.integrations.canva.simulator.files import colour, solid_pdf, solid_png
from promptsales.domain_core.integrations.file_host.simulator import SignedFileHost
from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.shared.clock import utc_now

EXPORT_WINDOW = timedelta(minutes=5)  # §12: 75 exports per 5 minutes per user / per design
LIST_WINDOW = timedelta(minutes=1)  # [spec] list designs: 100 requests per minute per user
URL_LIFETIME = timedelta(hours=24)  # §12: download URLs valid 24 h
ASSET_NAME_MAX = 50  # [spec AssetUploadMetadata] name ≤ 50 characters unencoded
ASSET_BYTES_MAX = 50 * 1024 * 1024  # [canva.dev assets overview] images < 50 MB
PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT = 100, 25  # [spec listDesigns]
EXPORT_TYPES = ("pdf", "jpg", "png", "gif", "pptx", "mp4", "csv", "html_bundle", "html_standalone")  # §12
SERVED_TYPES = ("png", "pdf")  # what this simulator can render
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


@dataclass
class _Design:
    id: str
    title: str
    pages: int
    width: int
    height: int
    shared: bool
    padding: int
    created: datetime
    updated: datetime


@dataclass
class _Job:
    id: str
    kind: str  # "export" | "upload"
    polls_left: int
    design_id: str | None = None
    format: dict[str, Any] = field(default_factory=dict)
    status: str = "in_progress"
    urls: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    asset: dict[str, Any] | None = None
    upload: tuple[str, bytes] | None = None


@dataclass
class _Account:
    name: str
    designs: dict[str, _Design] = field(default_factory=dict)
    jobs: dict[str, _Job] = field(default_factory=dict)
    windows: dict[str, deque[datetime]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)


class CanvaSimulator:
    """Canva Connect for several users. ``.app`` serves the API and the file host; ``seed_design`` / ``fail_*``
    act as Canva."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        job_polls: int = 1,
        exports_per_window: int = 75,
        lists_per_minute: int = 100,
        file_host: str = SANDBOX_FILE_HOST,
        signing_key: bytes = b"canva-simulator-signing-key",
    ) -> None:
        self._tokens: dict[str, str] = dict(tokens or {})
        self._revoked: set[str] = set()
        self._clock = clock
        self._job_polls = job_polls
        self._exports_per_window = exports_per_window
        self._lists_per_minute = lists_per_minute
        self.file_host = file_host
        self._key = signing_key
        self._accounts: dict[str, _Account] = {}
        self._faults = Faults()
        self._failing: dict[str, tuple[str, str]] = {}
        self._stalled: set[str] = set()
        self._serial = 0
        self.requests: list[tuple[str, str, str]] = []  # (account or file host, method, path)
        self._file_host = SignedFileHost(file_host, key=signing_key, clock=clock, requests=self.requests)
        api = [
            Route("/designs", self._endpoint(self._list_designs), methods=["GET"]),
            Route("/designs/{design_id}", self._endpoint(self._get_design), methods=["GET"]),
            Route("/exports", self._endpoint(self._create_export), methods=["POST"]),
            Route("/exports/{job_id}", self._endpoint(self._get_export), methods=["GET"]),
            Route("/asset-uploads", self._endpoint(self._create_upload), methods=["POST"]),
            Route("/asset-uploads/{job_id}", self._endpoint(self._get_upload), methods=["GET"]),
        ]
        self.app = Starlette(
            routes=[
                Host(file_host, app=Router(routes=[Route("/{path:path}", self._file_host.download, methods=["GET"])])),
                Mount("/rest/v1", routes=api),
            ]
        )

    # --- acting as Canva -----------------------------------------------------------------------------------------

    def account(self, account: str) -> _Account:
        """The state of ``account`` (created on first use), for tests to inspect."""
        return self._accounts.setdefault(account, _Account(account))

    def grant(self, token: str, account: str) -> None:
        """``token`` becomes a valid access token of ``account`` (created on first use)."""
        self._tokens[token] = account
        self._revoked.discard(token)
        self.account(account)

    def revoke(self, token: str) -> None:
        """``token`` now answers 401 ``revoked_access_token``."""
        self._revoked.add(token)

    def seed_design(
        self,
        account: str,
        title: str,
        *,
        pages: int = 1,
        width: int = 64,
        height: int = 36,
        shared: bool = False,
        padding: int = 0,
        at: datetime | None = None,
    ) -> str:
        """A design in ``account``'s projects (``shared``: shared with the user, not owned); returns its id.

        ``padding`` adds that many bytes to each exported file (to test size caps).
        """
        self._serial += 1
        design_id = f"DAG{self._serial:08d}"
        moment = at or self._clock()
        self.account(account).designs[design_id] = _Design(
            design_id, title, pages, width, height, shared, padding, moment, moment
        )
        return design_id

    def edit_design(self, account: str, design_id: str, *, width: int, height: int) -> None:
        """The user resized a design in Canva (its exports change, its ``updated_at`` moves)."""
        design = self.account(account).designs[design_id]
        design.width, design.height, design.updated = width, height, self._clock()

    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` API requests answer ``status`` (429 ``too_many_requests`` or a 5xx)."""
        self._faults.add(status, times=times, retry_after=retry_after)

    def fail_download(self, status: int = 503, *, times: int = 1) -> None:
        """The next ``times`` file downloads answer ``status``."""
        self._file_host.faults.add(status, times=times)

    def fail_export(
        self,
        design_id: str,
        *,
        code: str = "license_required",
        message: str = "User doesn't have the required license to export in PRO quality",
    ) -> None:
        """Exports of ``design_id`` end ``failed`` with Canva's ``{code, message}`` [spec ExportError]."""
        self._failing[design_id] = (code, message)

    def stall_export(self, design_id: str) -> None:
        """Exports of ``design_id`` stay ``in_progress`` forever."""
        self._stalled.add(design_id)

    def exports(self, account: str) -> list[str]:
        """The ids of the export jobs ``account`` started, in order."""
        return [job.id for job in self.account(account).jobs.values() if job.kind == "export"]

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(self, handler: Callable[[_Account, Request, bytes], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            entry = len(self.requests)
            self.requests.append(("", request.method, request.url.path))
            try:
                account = self._authenticate(request)
                self.requests[entry] = (account.name, request.method, request.url.path)
                self._inject_fault()
                status, document = handler(account, request, body)
            except _ApiError as error:
                document = {"code": error.code, "message": error.message}
                return Response(json.dumps(document), error.status, error.headers, media_type="application/json")
            return Response(json.dumps(document), status, media_type="application/json")

        return endpoint

    def _authenticate(self, request: Request) -> _Account:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _ApiError(401, "invalid_request", "Access token is missing from the request.")
        if token in self._revoked:
            raise _ApiError(401, "revoked_access_token", "Access token is revoked")
        name = self._tokens.get(token)
        if name is None:
            raise _ApiError(401, "invalid_access_token", "Access token is invalid")
        return self.account(name)

    def _inject_fault(self) -> None:
        fault = self._faults.take()
        if fault is None:
            return
        if fault.status == 429:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            raise _ApiError(429, "too_many_requests", "Too many requests", headers=headers)
        raise _ApiError(fault.status, "internal_error", "An internal error occurred")

    def _throttle(self, account: _Account, bucket: str, limit: int, window: timedelta, message: str) -> None:
        now = self._clock()
        times = account.windows.setdefault(bucket, deque())
        while times and now - times[0] >= window:
            times.popleft()
        if len(times) >= limit:
            wait = math.ceil((times[0] + window - now).total_seconds())
            raise _ApiError(429, "too_many_requests", message, headers={"Retry-After": str(max(wait, 1))})
        times.append(now)

    def _next_id(self) -> str:
        self._serial += 1
        return f"{self._serial:08x}-5e1d-4c0a-9a00-{self._serial:012x}"

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise _ApiError(400, "bad_request_body", "The request body is not valid JSON") from None

    # --- designs -------------------------------------------------------------------------------------------------

    def _design_document(self, design: _Design, account: _Account) -> dict[str, Any]:
        owner = hashlib.sha256(account.name.encode()).hexdigest()[:20]
        return {
            "id": design.id,
            "title": design.title,
            "owner": {"user_id": f"U{owner}", "team_id": f"T{owner}"},
            "thumbnail": {
                "width": design.width,
                "height": design.height,
                "url": self._file_host.sign(f"/{design.id}/thumbnail/0001.png", lifetime=timedelta(minutes=15)),
            },
            "urls": {
                "edit_url": f"https://www.canva.com/api/design/{design.id}/edit",
                "view_url": f"https://www.canva.com/api/design/{design.id}/view",
            },
            "created_at": int(design.created.timestamp()),
            "updated_at": int(design.updated.timestamp()),
            "page_count": design.pages,
        }

    def _list_designs(self, account: _Account, request: Request, _body: bytes) -> tuple[int, Any]:
        self._throttle(account, "list", self._lists_per_minute, LIST_WINDOW, "Too many requests")
        params = request.query_params
        raw_limit = params.get("limit", str(PAGE_SIZE_DEFAULT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= PAGE_SIZE_MAX:
            raise _ApiError(400, "bad_query_params", f"limit must be between 1 and {PAGE_SIZE_MAX}")
        ownership = params.get("ownership", "any")
        if ownership not in ("any", "owned", "shared"):
            raise _ApiError(400, "bad_query_params", f"Invalid ownership: {ownership}")
        query = params.get("query")
        sort_by = params.get("sort_by", "relevance")
        designs = [
            d
            for d in account.designs.values()
            if (ownership == "any" or d.shared == (ownership == "shared"))
            and (not query or query.lower() in d.title.lower())
        ]
        orders: dict[str, Callable[[_Design], Any]] = {
            "relevance": lambda d: (-d.updated.timestamp(), d.id),
            "modified_descending": lambda d: (-d.updated.timestamp(), d.id),
            "modified_ascending": lambda d: (d.updated.timestamp(), d.id),
            "title_ascending": lambda d: (d.title.lower(), d.id),
            "title_descending": lambda d: (d.title.lower(), d.id),
        }
        if sort_by not in orders:
            raise _ApiError(400, "bad_query_params", f"Invalid sort_by: {sort_by}")
        designs.sort(key=orders[sort_by], reverse=sort_by == "title_descending")
        start = self._decode_continuation(params.get("continuation"), len(designs))
        size = int(raw_limit)
        page = designs[start : start + size]
        document: dict[str, Any] = {"items": [self._design_document(d, account) for d in page]}
        if start + size < len(designs):
            document["continuation"] = self._encode_continuation(start + size)
        return 200, document

    def _encode_continuation(self, offset: int) -> str:
        raw = f"designs:{offset}".encode()
        tag = hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:16]
        return base64.urlsafe_b64encode(raw).decode().rstrip("=") + ":" + tag

    def _decode_continuation(self, token: str | None, total: int) -> int:
        if token is None:
            return 0
        encoded, _, tag = token.partition(":")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        expected = hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:16]
        kind, _, offset = raw.decode(errors="replace").partition(":")
        if not hmac.compare_digest(tag, expected) or kind != "designs" or not offset.isdigit():
            raise _ApiError(400, "bad_query_params", "Invalid continuation token")
        return min(int(offset), total)

    def _get_design(self, account: _Account, request: Request, _body: bytes) -> tuple[int, Any]:
        design = self._design(account, str(request.path_params["design_id"]))
        return 200, {"design": self._design_document(design, account)}

    @staticmethod
    def _design(account: _Account, design_id: str) -> _Design:
        design = account.designs.get(design_id)
        if design is None:
            raise _ApiError(404, "design_not_found", f"Design with id '{design_id}' not found")
        return design

    # --- exports -------------------------------------------------------------------------------------------------

    def _create_export(self, account: _Account, _request: Request, body: bytes) -> tuple[int, Any]:
        document = self._json(body)
        if not isinstance(document, dict):
            raise _ApiError(400, "bad_request_body", "The request body must be an object")
        design_id = document.get("design_id")
        fmt = document.get("format")
        if not isinstance(design_id, str) or not design_id:
            raise _ApiError(400, "bad_request_body", "design_id is required")
        if not isinstance(fmt, dict) or fmt.get("type") not in EXPORT_TYPES:
            raise _ApiError(400, "bad_request_body", "format.type must be one of: " + ", ".join(EXPORT_TYPES))
        design = self._design(account, design_id)
        if fmt["type"] not in SERVED_TYPES:
            raise _ApiError(400, "bad_request_body", f"{fmt['type']} export not supported by this simulator")
        pages = fmt.get("pages") or []
        if not isinstance(pages, list) or any(not isinstance(p, int) or p < 1 for p in pages):
            raise _ApiError(400, "bad_request_body", "pages must be page numbers from 1")
        bad = [p for p in pages if p > design.pages]
        if bad:
            numbers = ", ".join(str(p) for p in bad)
            raise _ApiError(
                400, "bad_request_body", f"Requested page(s) [{numbers}] of a design with {design.pages} page(s)"
            )
        self._throttle(account, "exports", self._exports_per_window, EXPORT_WINDOW, "Too many export requests for user")
        self._throttle(
            account,
            f"exports:{design.id}",
            self._exports_per_window,
            EXPORT_WINDOW,
            "Too many export requests for design",
        )
        job = _Job(self._next_id(), "export", self._job_polls, design_id=design.id, format=dict(fmt))
        account.jobs[job.id] = job
        self._advance(account, job, count=False)
        return 200, {"job": self._job_document(job)}

    def _get_export(self, account: _Account, request: Request, _body: bytes) -> tuple[int, Any]:
        job = account.jobs.get(str(request.path_params["job_id"]))
        if job is None or job.kind != "export":
            raise _ApiError(404, "not_found", f"Export job {request.path_params['job_id']} not found")
        self._advance(account, job)
        return 200, {"job": self._job_document(job)}

    def _advance(self, account: _Account, job: _Job, *, count: bool = True) -> None:
        if job.status != "in_progress" or (job.design_id is not None and job.design_id in self._stalled):
            return
        if count:
            job.polls_left -= 1
        if job.polls_left > 0:
            return
        if job.kind == "upload":
            self._finish_upload(account, job)
            return
        assert job.design_id is not None
        failing = self._failing.get(job.design_id)
        if failing is not None:
            job.status, job.error = "failed", {"code": failing[0], "message": failing[1]}
            return
        job.status, job.urls = "success", self._render(account.designs[job.design_id], job.format)

    def _render(self, design: _Design, fmt: Mapping[str, Any]) -> list[str]:
        pages = list(fmt.get("pages") or range(1, design.pages + 1))
        if fmt["type"] == "pdf":
            # px to pt at 96 dpi; one PDF holds every requested page.
            sizes = [
                (max(1, design.width * 3 // 4), max(1, design.height * 3 // 4), colour(f"{design.id}:{p}"))
                for p in pages
            ]
            return [self._store(f"/{design.id}/export.pdf", solid_pdf(sizes, padding=design.padding))]
        width, height = self._png_size(design, fmt)
        if fmt.get("as_single_image"):
            png = solid_png(width, height * len(pages), colour(f"{design.id}:all"), padding=design.padding)
            return [self._store(f"/{design.id}/export.png", png)]
        return [
            self._store(
                f"/{design.id}/{p:04d}.png",
                solid_png(width, height, colour(f"{design.id}:{p}"), padding=design.padding),
            )
            for p in pages
        ]

    @staticmethod
    def _png_size(design: _Design, fmt: Mapping[str, Any]) -> tuple[int, int]:
        # [spec PngExportFormat]: one of width/height scales the other; both or none keep the design's own ratio.
        width, height = fmt.get("width"), fmt.get("height")
        if isinstance(width, int) and not isinstance(height, int):
            return width, max(1, round(design.height * width / design.width))
        if isinstance(height, int) and not isinstance(width, int):
            return max(1, round(design.width * height / design.height)), height
        return design.width, design.height

    @staticmethod
    def _job_document(job: _Job) -> dict[str, Any]:
        document: dict[str, Any] = {"id": job.id, "status": job.status}
        if job.urls:
            document["urls"] = list(job.urls)
        if job.error is not None:
            document["error"] = dict(job.error)
        if job.asset is not None:
            document["asset"] = dict(job.asset)
        return document

    # --- asset uploads -------------------------------------------------------------------------------------------

    def _create_upload(self, account: _Account, request: Request, body: bytes) -> tuple[int, Any]:
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/octet-stream":
            raise _ApiError(415, "unsupported_content_type", "Content-Type must be application/octet-stream")
        raw = request.headers.get("asset-upload-metadata")
        try:
            metadata: Any = json.loads(raw or "null")
            name = base64.b64decode(metadata["name_base64"], validate=True).decode()
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise _ApiError(
                400, "invalid_header_value", "Asset-Upload-Metadata must be JSON with a Base64 name_base64"
            ) from None
        if not 0 < len(name) <= ASSET_NAME_MAX:
            raise _ApiError(400, "invalid_field", f"The asset name must be 1-{ASSET_NAME_MAX} characters")
        job = _Job(self._next_id(), "upload", self._job_polls, upload=(name, body))
        account.jobs[job.id] = job
        self._advance(account, job, count=False)
        return 200, {"job": self._job_document(job)}

    def _get_upload(self, account: _Account, request: Request, _body: bytes) -> tuple[int, Any]:
        job = account.jobs.get(str(request.path_params["job_id"]))
        if job is None or job.kind != "upload":
            raise _ApiError(404, "not_found", f"Job ID {request.path_params['job_id']} not found")
        self._advance(account, job)
        return 200, {"job": self._job_document(job)}

    def _finish_upload(self, account: _Account, job: _Job) -> None:
        assert job.upload is not None
        name, content = job.upload
        if len(content) > ASSET_BYTES_MAX:
            job.status = "failed"
            job.error = {"code": "file_too_big", "message": "Failed to import because the file is too big"}
            return
        if not _looks_whole(content):
            job.status, job.error = "failed", {"code": "import_failed", "message": "Failed to import the file"}
            return
        asset_id = "M" + hashlib.sha256(job.id.encode()).hexdigest()[:9]
        now = int(self._clock().timestamp())
        asset = {"id": asset_id, "type": "image", "name": name, "tags": [], "created_at": now, "updated_at": now}
        account.assets[asset_id] = {**asset, "bytes": content}
        job.status, job.asset = "success", asset

    # --- file host ----------------------------------------------------------------------------------------------

    def _store(self, path: str, content: bytes) -> str:
        file_path = f"/{self._next_id()}{path}"
        content_type = "application/pdf" if path.endswith(".pdf") else "image/png"
        return self._file_host.put(file_path, content, content_type, lifetime=URL_LIFETIME)


def _looks_whole(content: bytes) -> bool:
    """A PNG from its signature and IHDR to its IEND chunk, or a JPEG from SOI to EOI marker."""
    if content.startswith(_IMAGE_MAGIC[0]):
        return content[12:16] == b"IHDR" and content.endswith(b"IEND\xaeB`\x82")
    return content.startswith(_IMAGE_MAGIC[1]) and content.endswith(b"\xff\xd9")

"""An Adobe Firefly Services (Firefly API v3) client over :class:`ConnectorHttp`: generate images, follow the job,
bring the result back as a design file.

The catalogue calls this connector ``adobe_express``, but the reference documents no Adobe Express REST API: §13 of
shared/reference/platform_apis.md covers Firefly Services, the nearest documented Adobe API (connectors.json
notes the same). Wire shapes are §13's; fields it leaves out come from the Firefly v3 OpenAPI description
(``image_generation_async_v3.json``, the copy §13 cites), marked [spec]:

* token (OAuth Server-to-Server, client credentials): ``POST https://ims-na1.adobelogin.com/ims/token/v3`` form
  ``grant_type=client_credentials&client_id&client_secret&scope=openid,AdobeID,session,additional_info,
  read_organizations,firefly_api,ff_apis`` → ``{access_token, token_type:"bearer", expires_in:86399}``; no refresh
  token, a new one is simply requested (§13). :class:`ImsTokenSource` caches it until shortly before expiry and
  drops it when Firefly answers 401;
* every call: ``Authorization: Bearer <token>``, ``x-api-key: <client_id>`` (§13);
* generate (async only; the sync endpoints were removed in 2025, §13): ``POST /v3/images/generate-async``,
  optional header ``x-model-version`` (``image3`` default, ``image4_standard``, ``image4_ultra``, custom ones
  need ``customModelId``), body ``{prompt (1-1024), negativePrompt?, numVariations? (1-4), seeds?[] (as many as
  numVariations), size?{width, height}, contentClass?: photo|art, promptBiasingLocaleCode?}`` → 202 ``{jobId,
  statusUrl, cancelUrl}`` (§13; limits [spec]);
* poll: ``GET /v3/status/{jobId}`` → ``{jobId, status, progress?, result?:{size, outputs:[{seed, image:{url}}],
  contentClass}}`` while ``pending``/``running``; a failed, cancelled or timed-out job answers ``{jobId, status,
  error_code, message}`` with HTTP 200 [spec examples]. §13 says to follow the returned ``statusUrl``; it names
  this same route, and the client keeps to the relative route so the bearer token only ever goes to the API
  host it was configured with, whatever an answer names;
* output URLs are pre-signed and expire in one hour ([spec PublicBinaryOutputV3]; §13 "short-lived [~]"); they are
  downloaded through a second ConnectorHttp without the token or the API key (:func:`download_design_file`).
  Their host is not in the reference: S3 (``*.amazonaws.com``) [~]. Their type is not stated either [~]: JPEG
  output is converted to PNG here (Pillow), PNG passes through;
* errors ``{error_code, message}`` (§13, [spec ApiError]); 429 ``{error_code:"rate_limited"}`` with
  ``retry-after`` (§13 [~], [spec]); quotas per contract; no sandbox (§13).

Idempotency: none (§13 matrix, connectors.json), so a generation is sent once; only a 429 (a refusal) is resent
after its wait (:func:`send_unless_throttled`). Not supported here, explicitly: listing designs (Firefly keeps no
list of designs or jobs), PDF output (Firefly makes images only), pushing a brand logo or colours (§13 documents
no asset library or brand store: see :class:`FireflyDesignAssets`), the other async operations (expand, fill,
similar, object composite — §13 lists only their removed sync versions), cancelling a job, and uploads to
Firefly storage (not in §13; they would also need ConnectorHttp to send a raw body).
"""

import asyncio
import io
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from PIL import Image, UnidentifiedImageError
from pydantic import Field, model_validator

from promptsales.domain_core.integrations.design_assets import (
    DEFAULT_MAX_BYTES,
    DesignDownloadRefused,
    DesignFile,
    DesignFormat,
    DesignJobFailed,
    DesignOperationUnsupported,
    DesignSummary,
    DownloadedFile,
    DownloadLimits,
    JobPolling,
    checked_design_file,
    download_design_file,
    poll_job,
    send_unless_throttled,
)
from promptsales.domain_core.integrations.http import ConnectorHttp, Sleep
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, PlatformValidationError
from promptsales.domain_core.integrations.views import FrozenView

PLATFORM = "adobe_express"
IMS_ORIGIN = "https://ims-na1.adobelogin.com"  # §13 token endpoint host
IMS_TOKEN_PATH = "/ims/token/v3"  # noqa: S105  # §13 (a path, not a secret)
DEFAULT_SCOPES = ("openid", "AdobeID", "session", "additional_info", "read_organizations", "firefly_api", "ff_apis")
PROMPT_MAX = 1024  # [spec GenerateImagesRequestV3] prompt / negativePrompt maxLength
VARIATIONS_MAX = 4  # [spec] numVariations 1..4
SIZE_MAX = 4096  # [spec Size] width/height 1..4096
PIXELS_MAX = SIZE_MAX * SIZE_MAX  # an output larger than Firefly can make is not decoded
TOKEN_MARGIN_S = 300.0  # renew this long before expires_in runs out (Adobe suggests renewing well before, §13)
# Output hosts: S3 pre-signed URLs [~: not in the reference]; the sandbox simulator's hosts.
LIVE_FILE_HOSTS = ("amazonaws.com",)
SANDBOX_FILE_HOST = "firefly-outputs.adobe-express.sandbox.promptsales.invalid"
SANDBOX_IMS_ORIGIN = "https://ims.adobe-express.sandbox.promptsales.invalid"
_SANDBOX_SUFFIX = ".sandbox.promptsales.invalid"
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,199}")  # uuids or urn:…; nothing that could leave the route
OUTPUT_TYPES = ("image/jpeg", "image/png")
DONE_STATUSES = frozenset({"succeeded", "failed", "canceled", "cancelled", "timeout"})  # [spec] (+ §13 [~])

T = TypeVar("T")
ModelVersion = Literal["image3", "image3_custom", "image4_standard", "image4_ultra", "image4_custom"]  # §13


def _check_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ValueError("job_id must be a Firefly job id (letters, digits, ':', '.', '_' or '-', at most 200)")
    return job_id


class ImsTokenSource:
    """Server-to-server access tokens for one Adobe credential, cached until shortly before they expire.

    ``headers()`` is the ConnectorHttp ``auth`` of the Firefly calls. ``http`` is a ConnectorHttp on the IMS host
    without auth (the client id and secret go in the form body); the secret must be among its ``secrets``.
    """

    def __init__(
        self,
        http: ConnectorHttp,
        *,
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required (Adobe Developer Console credential)")
        if not scopes or any(not s or "," in s for s in scopes):
            raise ValueError("scopes must be non-empty names without commas")
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.fetched = 0  # how many tokens were requested (a cache that works keeps this low)

    def __repr__(self) -> str:
        return f"ImsTokenSource(client_id={self._client_id!r}, cached={self._token is not None})"

    async def aclose(self) -> None:
        """Close the IMS connection pool."""
        await self._http.aclose()

    def invalidate(self) -> None:
        """Forget the cached token (Firefly refused it); the next call requests a new one."""
        self._token = None

    async def headers(self) -> Mapping[str, str]:
        """The bearer token and API key every Firefly call sends (§13 "Call headers")."""
        async with self._lock:
            token = self._token
            if token is None or self._clock() >= self._renew_at:
                token = await self._fetch()
            return {"Authorization": f"Bearer {token}", "x-api-key": self._client_id}

    async def _fetch(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": ",".join(self._scopes),
        }
        try:
            # Asking for another token changes nothing on Adobe's side, so the POST may be retried like a read.
            response = await self._http.request("POST", IMS_TOKEN_PATH, form=form, idempotent_write=True)
        except PlatformValidationError as refused:
            # IMS answers a wrong or removed credential with HTTP 400 invalid_client [~]: the credential, not the
            # request, is what has to change.
            raise AuthExpired(
                platform=self._http.platform, status=refused.status, detail=refused.detail, attempts=refused.attempts
            ) from None
        self.fetched += 1
        document = response.json()
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthExpired(platform=self._http.platform, status=response.status_code, detail="IMS sent no token")
        expires_in = document.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
        self._token = token
        self._renew_at = self._clock() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
        return token


class FireflyGenerateRequest(FrozenView):
    """What to generate (``POST /v3/images/generate-async`` body and model header)."""

    prompt: str = Field(min_length=1, max_length=PROMPT_MAX)
    negative_prompt: str | None = Field(default=None, max_length=PROMPT_MAX)
    num_variations: int | None = Field(default=None, ge=1, le=VARIATIONS_MAX)
    seeds: tuple[int, ...] = Field(default=(), max_length=VARIATIONS_MAX)
    width: int | None = Field(default=None, ge=1, le=SIZE_MAX)
    height: int | None = Field(default=None, ge=1, le=SIZE_MAX)
    content_class: Literal["photo", "art"] | None = None
    prompt_biasing_locale_code: str | None = Field(default=None, pattern=r"^[a-z]{2}-[A-Z]{2}$")
    model_version: ModelVersion | None = None
    custom_model_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be distinct")
        if self.seeds and self.num_variations is not None and len(self.seeds) != self.num_variations:
            raise ValueError("give as many seeds as num_variations (§13)")
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height, or neither")
        custom = self.model_version is not None and self.model_version.endswith("_custom")
        if custom != (self.custom_model_id is not None):
            raise ValueError("custom_model_id goes with a *_custom model_version, and only with one")
        return self

    def wire(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {"prompt": self.prompt}
        if self.negative_prompt:
            body["negativePrompt"] = self.negative_prompt
        if self.num_variations is not None:
            body["numVariations"] = self.num_variations
        if self.seeds:
            body["seeds"] = list(self.seeds)
        if self.width is not None and self.height is not None:
            body["size"] = {"width": self.width, "height": self.height}
        if self.content_class is not None:
            body["contentClass"] = self.content_class
        if self.prompt_biasing_locale_code is not None:
            body["promptBiasingLocaleCode"] = self.prompt_biasing_locale_code
        if self.custom_model_id is not None:
            body["customModelId"] = self.custom_model_id
        return body


class FireflyJob(FrozenView):
    """A started generation job."""

    job_id: str = Field(alias="jobId")


class FireflyOutput(FrozenView):
    """One generated image: its seed and its pre-signed URL (left out of reprs)."""

    seed: int | None = None
    url: str = Field(repr=False)


class FireflyJobStatus(FrozenView):
    """A job's state; ``outputs`` once it succeeded, ``error_code``/``message`` when it did not."""

    job_id: str
    status: str
    progress: float | None = None
    outputs: tuple[FireflyOutput, ...] = ()
    width: int | None = None
    height: int | None = None
    error_code: str | None = None
    message: str | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended."""
        return self.status in DONE_STATUSES

    @classmethod
    def read(cls, document: Any, job_id: str) -> "FireflyJobStatus":
        """The status answer (``AsyncTaskResponseV3`` or ``AsyncApiErrorV3`` [spec])."""
        if not isinstance(document, dict):
            raise ValueError("Firefly answered a job status with something other than an object")
        result = _dict(document.get("result"))
        size = _dict(result.get("size"))
        outputs = []
        for item in result.get("outputs") or []:
            image = item.get("image") if isinstance(item, dict) else None
            url = image.get("url") if isinstance(image, dict) else None
            if isinstance(url, str) and url:
                seed = item.get("seed")
                outputs.append(FireflyOutput(seed=seed if isinstance(seed, int) else None, url=url))
        progress = document.get("progress")
        return cls(
            job_id=str(document.get("jobId") or job_id),
            status=str(document.get("status") or "unknown"),
            progress=float(progress) if isinstance(progress, int | float) else None,
            outputs=tuple(outputs),
            width=size.get("width") if isinstance(size.get("width"), int) else None,
            height=size.get("height") if isinstance(size.get("height"), int) else None,
            error_code=str(document["error_code"]) if document.get("error_code") else None,
            message=str(document["message"]) if document.get("message") else None,
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def download_limits(base_url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DownloadLimits:
    """The hosts outputs may come from: S3 [~], plus the simulator's when ``base_url`` is the sandbox."""
    hosts: tuple[str, ...] = LIVE_FILE_HOSTS
    if (urlsplit(base_url).hostname or "").endswith(_SANDBOX_SUFFIX):
        hosts += (SANDBOX_FILE_HOST,)
    return DownloadLimits(hosts=hosts, max_bytes=max_bytes)


def as_png(downloaded: DownloadedFile, *, platform: str) -> DownloadedFile:
    """``downloaded`` as a PNG: a PNG passes through, anything else Pillow reads is converted."""
    if downloaded.content.startswith(b"\x89PNG\r\n\x1a\n"):
        return downloaded
    try:
        with Image.open(io.BytesIO(downloaded.content)) as image:
            if image.width * image.height > PIXELS_MAX:
                raise DesignDownloadRefused(platform=platform, reason="the image is larger than Firefly can make")
            image.load()
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        raise DesignDownloadRefused(platform=platform, reason="the file is not a readable image") from None
    buffer = io.BytesIO()
    converted.save(buffer, format="PNG")
    return DownloadedFile(buffer.getvalue(), "image/png", downloaded.source_url)


class FireflyClient:
    """Image generation jobs and their files for one Adobe credential (``tokens`` renews the bearer token)."""

    def __init__(
        self,
        http: ConnectorHttp,
        *,
        files: ConnectorHttp | None = None,
        tokens: ImsTokenSource | None = None,
        polling: JobPolling | None = None,
        limits: DownloadLimits | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._files = files
        self._tokens = tokens
        self._polling = polling or JobPolling()
        self._limits = limits or DownloadLimits(hosts=LIVE_FILE_HOSTS)
        self._sleep: Sleep = sleep
        self._clock = clock

    @classmethod
    def connect(
        cls,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        ims_base_url: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        polling: JobPolling | None = None,
        max_download_bytes: int = DEFAULT_MAX_BYTES,
        **http_options: Any,
    ) -> Self:
        """A client on ``base_url`` (default: the live Firefly API) with its IMS token source and file host, all on
        the same transport, sleep and clock (``http_options`` go to every ConnectorHttp).

        In the sandbox (``base_url`` on the simulator's host) the token comes from the simulator's IMS as well.
        """
        connector = get_connector(PLATFORM)
        base = base_url or connector.live_base_url
        sandbox = (urlsplit(base).hostname or "").endswith(_SANDBOX_SUFFIX)
        options = dict(http_options)
        secrets = (*tuple(options.pop("secrets", ())), client_secret)
        unbudgeted = {name: value for name, value in options.items() if name != "budget"}
        ims = ConnectorHttp(
            connector,
            base_url=ims_base_url or (SANDBOX_IMS_ORIGIN if sandbox else IMS_ORIGIN),
            tenant_id=tenant_id,
            secrets=secrets,
            **unbudgeted,
        )
        clock = options.get("clock", time.monotonic)
        tokens = ImsTokenSource(ims, client_id=client_id, client_secret=client_secret, scopes=scopes, clock=clock)
        http = ConnectorHttp(
            connector, base_url=base, tenant_id=tenant_id, auth=tokens.headers, secrets=secrets, **options
        )
        files = ConnectorHttp(connector, base_url=base, tenant_id=tenant_id, secrets=secrets, **unbudgeted)
        return cls(
            http,
            files=files,
            tokens=tokens,
            polling=polling,
            limits=download_limits(base, max_bytes=max_download_bytes),
            sleep=options.get("sleep", asyncio.sleep),
            clock=clock,
        )

    @property
    def platform_name(self) -> str:
        """The platform's display name, as errors show it."""
        return self._http.platform

    async def aclose(self) -> None:
        """Close every connection pool."""
        await self._http.aclose()
        if self._files is not None:
            await self._files.aclose()
        if self._tokens is not None:
            await self._tokens.aclose()

    async def _with_fresh_token(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``; after a 401 with a cached token, once more with a new one (the old one may be revoked)."""
        try:
            return await call()
        except AuthExpired:
            if self._tokens is None:
                raise
            self._tokens.invalidate()
        return await call()

    async def generate_images(self, request: FireflyGenerateRequest) -> FireflyJob:
        """Start a generation job (sent once; resent only after a 429, which made nothing)."""
        headers = {"x-model-version": request.model_version} if request.model_version else None

        async def send() -> httpx.Response:
            return await send_unless_throttled(
                self._http,
                "POST",
                "/v3/images/generate-async",
                sleep=self._sleep,
                json_body=request.wire(),
                headers=headers,
            )

        response = await self._with_fresh_token(send)
        return FireflyJob.model_validate(response.json())

    async def job(self, job_id: str) -> FireflyJobStatus:
        """A job's current state."""
        path = f"/v3/status/{quote(_check_job_id(job_id), safe=':')}"
        response = await self._with_fresh_token(lambda: self._http.request("GET", path))
        return FireflyJobStatus.read(response.json(), job_id)

    async def wait_for_job(self, job_id: str) -> FireflyJobStatus:
        """The job polled until it ends; :class:`DesignJobFailed` unless it succeeded, :class:`DesignJobTimedOut`
        if it is still running when the polling budget is spent."""
        finished = await poll_job(
            lambda: self.job(job_id),
            first=await self.job(job_id),
            done=lambda j: j.done,
            polling=self._polling,
            sleep=self._sleep,
            clock=self._clock,
            platform=self._http.platform,
            what="generation",
            job_id=job_id,
        )
        if finished.status != "succeeded":
            raise DesignJobFailed(
                platform=self._http.platform,
                what="generation",
                job_id=job_id,
                platform_code=finished.error_code or finished.status,
                message=finished.message or f"the job ended as '{finished.status}'",
            )
        return finished

    async def download(self, url: str) -> DownloadedFile:
        """The bytes of one output (no token or API key sent; size, type and host checked)."""
        if self._files is None:
            raise ValueError("this FireflyClient has no file-host ConnectorHttp: build it with FireflyClient.connect")
        return await download_design_file(self._files, url, expected=OUTPUT_TYPES, limits=self._limits)

    async def export_design(self, job_id: str, format: DesignFormat = "png", *, output: int = 0) -> DesignFile:
        """Output ``output`` of generation job ``job_id`` as a PNG (waiting for the job if it is still running)."""
        if format != "png":
            raise DesignOperationUnsupported(
                platform=self._http.platform,
                operation=f"Exporting as {format.upper()}",
                reason="Firefly Services makes images only (§13); export as png",
            )
        finished = await self.wait_for_job(job_id)
        if not 0 <= output < len(finished.outputs):
            raise ValueError(f"output must be 0-{len(finished.outputs) - 1} (the job made {len(finished.outputs)})")
        downloaded = as_png(await self.download(finished.outputs[output].url), platform=self._http.platform)
        return checked_design_file(
            downloaded,
            platform=PLATFORM,
            platform_name=self._http.platform,
            design_id=job_id,
            title=None,
            format="png",
        )


class FireflyDesignAssets:
    """:class:`~promptsales.domain_core.integrations.design_assets.DesignAssetsPlatform` over a FireflyClient.

    A "design" here is a finished generation job: its id is the ``jobId`` from :meth:`FireflyClient.generate_images`.
    """

    platform = PLATFORM
    lists_designs = False

    def __init__(self, client: FireflyClient) -> None:
        self._client = client

    async def list_designs(self, *, query: str | None = None, limit: int = 200) -> tuple[DesignSummary, ...]:
        """Not possible: Firefly Services keeps no list of designs or jobs (§13)."""
        raise DesignOperationUnsupported(
            platform=self._client.platform_name,
            operation="Listing designs",
            reason="Firefly Services keeps no list of designs or jobs (§13); designs are generation jobs, "
            "exported by their job id",
        )

    async def export_design(self, design_id: str, format: DesignFormat) -> DesignFile:
        """The first output of generation job ``design_id`` as a PNG (PDF is not possible)."""
        return await self._client.export_design(design_id, format)

    async def push_brand_logo(self, png: bytes, name: str) -> str | None:
        """None: §13 documents no asset library or brand store for Firefly Services, so there is nowhere to keep a
        brand logo or brand colours (Firefly's own storage upload holds generation inputs, not brand assets, and
        is not in the reference)."""
        return None

"""Adobe Firefly Services (Firefly API v3) and its IMS token endpoint in memory, plus the pre-signed output host.

Shapes follow shared/reference/platform_apis.md §13, and the Firefly v3 OpenAPI description where §13 is silent
[spec] (see adobe_express/client.py). Each access token belongs to one account (an Adobe organisation's
credential); accounts share nothing.

* IMS: ``POST /ims/token/v3`` form ``grant_type=client_credentials&client_id&client_secret&scope`` →
  ``{access_token, token_type:"bearer", expires_in}`` (§13) for a credential registered with :meth:`add_client`;
  a wrong or removed credential answers 400 ``{error:"invalid_client", error_description}`` [~ RFC 6749 §5.2].
* Firefly auth: ``Authorization: Bearer`` + ``x-api-key`` (§13). A missing, unknown, expired or revoked token:
  401 ``{error_code:"401013", message:"Oauth token is not valid"}`` [~ Adobe gateway]; no API key: 403
  ``{error_code:"403000", message:"Api Key is required"}``, another credential's key: 403 ``403003`` [~]; a token
  without the ``firefly_api`` scope: 403 ``{error_code:"access_error"}`` with ``x-access-error:
  invalid_ims_scope`` [spec].
* Generate: ``POST /v3/images/generate-async`` → 202 ``{jobId, statusUrl, cancelUrl}`` (§13); request checks as
  [spec]: 415 ``invalid_content_type``, 400 ``empty_input_body``, 422 ``validation_error`` with
  ``validation_errors:[{loc, msg, type}]``.
* Status: ``GET /v3/status/{jobId}``: ``pending``, then ``running`` for ``job_polls`` checks, then ``succeeded``
  with ``result:{size, outputs:[{seed, image:{url}}]}``, or ``failed`` ``{error_code, message}`` (HTTP 200)
  [spec]; an unknown id: 404 ``unknown_job_id`` [spec]. :meth:`fail_next_job` / :meth:`stall_next_job` script
  the next job.
* Rate: ``rate_limit_per_minute`` Firefly calls per account; past it 429 ``{error_code:"rate_limited"}`` with
  ``retry-after`` as an HTTP date [spec: "the date after which the client should retry"].
* Outputs: JPEG by default [~], PNG if asked, on ``file_host`` at pre-signed URLs (S3-style query [~]) valid one
  hour [spec]; a request carrying ``Authorization`` is refused as S3 refuses a second auth mechanism [~].
* Faults: :meth:`fail_next` (API answers; 429 with ``retry_after`` seconds), :meth:`fail_download`.
"""

import email.utils
import hashlib
import hmac
import io
import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Host, Route, Router

from promptsales.domain_core.integrations.adobe_express.client import SANDBOX_FILE_HOST
from promptsales.domain_core.integrations.file_host.simulator import SignedFileHost
from promptsales.domain_core.integrations.simulator_kit import Faults
from promptsales.domain_core.shared.clock import utc_now

URL_LIFETIME = timedelta(hours=1)  # [spec PublicBinaryOutputV3] "This URL expires in one hour"
RATE_WINDOW = timedelta(minutes=1)
PROMPT_MAX, VARIATIONS_MAX, SIZE_MAX = 1024, 4, 4096  # [spec GenerateImagesRequestV3 / Size]
DEFAULT_SIZE = (2048, 2048)  # [spec] default output size [~ for generate]
MODEL_VERSIONS = ("image3", "image3_custom", "image4_standard", "image4_ultra", "image4_custom")  # §13


class _ApiError(Exception):
    def __init__(self, status: int, document: Mapping[str, Any], *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(document))
        self.status, self.document = status, dict(document)
        self.headers = dict(headers or {})


def _invalid(field_name: str, message: str, kind: str = "value_error") -> _ApiError:
    return _ApiError(
        422,
        {
            "error_code": "validation_error",
            "validation_errors": [{"loc": ["body", field_name], "msg": message, "type": kind}],
        },
    )


@dataclass
class _Token:
    account: str
    client_id: str | None
    scopes: frozenset[str]
    expires: datetime | None


@dataclass
class _Client:
    secret: str
    account: str
    active: bool = True


@dataclass
class _Job:
    id: str
    polls_left: int
    request: dict[str, Any]
    status: str = "pending"
    fail: tuple[str, str] | None = None
    stalled: bool = False
    result: dict[str, Any] | None = None


@dataclass
class _Account:
    name: str
    jobs: dict[str, _Job] = field(default_factory=dict)
    window: deque[datetime] = field(default_factory=deque)


class AdobeExpressSimulator:
    """Firefly Services for several Adobe credentials. ``.app`` serves IMS, the API and the output host."""

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        job_polls: int = 1,
        output_type: str = "image/jpeg",
        output_padding: int = 0,
        rate_limit_per_minute: int = 120,
        token_lifetime_s: int = 86_399,
        file_host: str = SANDBOX_FILE_HOST,
        signing_key: bytes = b"firefly-simulator-signing-key",
    ) -> None:
        if output_type not in ("image/jpeg", "image/png"):
            raise ValueError("output_type is image/jpeg or image/png")
        self._clock = clock
        self._job_polls = job_polls
        self._output_type = output_type
        self._padding = output_padding
        self._rate = rate_limit_per_minute
        self._token_lifetime = token_lifetime_s
        self.file_host = file_host
        self._key = signing_key
        self._tokens: dict[str, _Token] = {}
        self._clients: dict[str, _Client] = {}
        self._accounts: dict[str, _Account] = {}
        self._faults = Faults()
        self._next_job: list[tuple[str, str] | None] = []
        self._serial = 0
        self.requests: list[tuple[str, str, str]] = []  # (account, method, path); "" before auth
        # Adobe's output host takes no second credential: neither a bearer token nor the API key.
        self._file_host = SignedFileHost(
            file_host,
            key=signing_key,
            clock=clock,
            refused_headers=("authorization", "x-api-key"),
            requests=self.requests,
        )
        self.token_requests = 0
        for token, account in (tokens or {}).items():
            self.grant(token, account)
        self.app = Starlette(
            routes=[
                Host(file_host, app=Router(routes=[Route("/{path:path}", self._file_host.download, methods=["GET"])])),
                Route("/ims/token/v3", self._token, methods=["POST"]),
                Route("/v3/images/generate-async", self._endpoint(self._generate), methods=["POST"]),
                Route("/v3/status/{job_id:path}", self._endpoint(self._status), methods=["GET"]),
            ]
        )

    # --- acting as Adobe ---------------------------------------------------------------------------------------

    def account(self, account: str) -> _Account:
        """The state of ``account`` (created on first use), for tests to inspect."""
        return self._accounts.setdefault(account, _Account(account))

    def grant(self, token: str, account: str, *, client_id: str | None = None) -> None:
        """``token`` becomes a valid access token of ``account`` (with ``client_id``, only that API key goes)."""
        self._tokens[token] = _Token(account, client_id, frozenset({"firefly_api", "ff_apis"}), None)
        self.account(account)

    def revoke(self, token: str) -> None:
        """``token`` now answers 401."""
        self._tokens.pop(token, None)

    def add_client(self, client_id: str, client_secret: str, account: str) -> None:
        """A server-to-server credential IMS issues tokens for (Adobe Developer Console)."""
        self._clients[client_id] = _Client(client_secret, account)
        self.account(account)

    def revoke_tokens(self, client_id: str) -> int:
        """Every token issued to ``client_id`` now answers 401 (the credential itself stays valid); how many."""
        issued = [t for t, v in self._tokens.items() if v.client_id == client_id]
        for token in issued:
            del self._tokens[token]
        return len(issued)

    def revoke_client(self, client_id: str) -> None:
        """The credential is removed: IMS refuses it and its tokens answer 401."""
        self._clients[client_id].active = False
        self.revoke_tokens(client_id)

    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` Firefly API requests answer ``status`` (429 ``rate_limited`` or a 5xx)."""
        self._faults.add(status, times=times, retry_after=retry_after)

    def fail_download(self, status: int = 503, *, times: int = 1) -> None:
        """The next ``times`` output downloads answer ``status``."""
        self._file_host.faults.add(status, times=times)

    def fail_next_job(self, error_code: str = "runtime_error", message: str = "The job failed to run.") -> None:
        """The next generation job ends ``failed`` with ``{error_code, message}``."""
        self._next_job.append((error_code, message))

    def stall_next_job(self) -> None:
        """The next generation job stays ``running`` forever."""
        self._next_job.append(None)

    def jobs(self, account: str) -> list[str]:
        """The ids of ``account``'s generation jobs, in order."""
        return list(self.account(account).jobs)

    # --- IMS -----------------------------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        self.requests.append(("", request.method, request.url.path))
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "grant_type is invalid"})
        client = self._clients.get(form.get("client_id", ""))
        if client is None or not client.active:
            return _json(400, {"error": "invalid_client", "error_description": "invalid client_id parameter"})
        if not hmac.compare_digest(client.secret, form.get("client_secret", "")):
            return _json(400, {"error": "invalid_client", "error_description": "invalid client_secret parameter"})
        scopes = frozenset(s for s in form.get("scope", "").split(",") if s)
        if not scopes:
            return _json(400, {"error": "invalid_scope", "error_description": "scope is required"})
        self.token_requests += 1
        self._serial += 1
        token = "eyJ" + hmac.new(self._key, f"token:{self._serial}".encode(), hashlib.sha256).hexdigest()
        expires = self._clock() + timedelta(seconds=self._token_lifetime)
        self._tokens[token] = _Token(client.account, form["client_id"], scopes, expires)
        return _json(200, {"access_token": token, "token_type": "bearer", "expires_in": self._token_lifetime})

    # --- pipeline ------------------------------------------------------------------------------------------------

    def _endpoint(self, handler: Callable[[_Account, Request, bytes], tuple[int, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            entry = len(self.requests)
            self.requests.append(("", request.method, request.url.path))
            try:
                account = self._authenticate(request)
                self.requests[entry] = (account.name, request.method, request.url.path)
                self._spend(account)
                self._inject_fault()
                status, document = handler(account, request, body)
            except _ApiError as error:
                return _json(error.status, error.document, error.headers)
            return _json(status, document)

        return endpoint

    def _authenticate(self, request: Request) -> _Account:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self._tokens.get(value) if scheme.lower() == "bearer" and value else None
        if token is not None and token.expires is not None and self._clock() >= token.expires:
            token = None
        if token is None:
            raise _ApiError(401, {"error_code": "401013", "message": "Oauth token is not valid"})
        api_key = request.headers.get("x-api-key")
        if not api_key:
            raise _ApiError(403, {"error_code": "403000", "message": "Api Key is required"})
        if token.client_id is not None and api_key != token.client_id:
            raise _ApiError(403, {"error_code": "403003", "message": "Api Key is invalid"})
        if "firefly_api" not in token.scopes:
            raise _ApiError(403, {"error_code": "access_error"}, headers={"x-access-error": "invalid_ims_scope"})
        return self.account(token.account)

    def _spend(self, account: _Account) -> None:
        now = self._clock()
        while account.window and now - account.window[0] >= RATE_WINDOW:
            account.window.popleft()
        if len(account.window) >= self._rate:
            free_at = account.window[0] + RATE_WINDOW
            retry = email.utils.format_datetime(
                datetime.fromtimestamp(math.ceil(free_at.timestamp()), UTC), usegmt=True
            )
            raise _ApiError(429, {"error_code": "rate_limited"}, headers={"retry-after": retry})
        account.window.append(now)

    def _inject_fault(self) -> None:
        fault = self._faults.take()
        if fault is None:
            return
        if fault.status == 429:
            headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
            raise _ApiError(429, {"error_code": "rate_limited"}, headers=headers)
        raise _ApiError(fault.status, {"error_code": "runtime_error", "message": "Internal server error"})

    # --- generation ----------------------------------------------------------------------------------------------

    def _generate(self, account: _Account, request: Request, body: bytes) -> tuple[int, Any]:
        if request.headers.get("content-type", "").split(";", 1)[0].strip() != "application/json":
            raise _ApiError(415, {"error_code": "invalid_content_type"})
        if not body.strip():
            raise _ApiError(400, {"error_code": "empty_input_body"})
        try:
            document = json.loads(body)
        except ValueError:
            raise _ApiError(400, {"error_code": "bad_request"}) from None
        if not isinstance(document, dict):
            raise _ApiError(400, {"error_code": "bad_request"})
        self._validate(document, request.headers.get("x-model-version"))
        self._serial += 1
        job_id = f"{self._serial:08x}-f1f1-4e00-8a00-{self._serial:012x}"
        job = _Job(job_id, self._job_polls, document)
        if self._next_job:
            scripted = self._next_job.pop(0)
            job.fail, job.stalled = scripted, scripted is None
        account.jobs[job_id] = job
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return 202, {
            "jobId": job_id,
            "statusUrl": f"{origin}/v3/status/{job_id}",
            "cancelUrl": f"{origin}/v3/cancel/{job_id}",
        }

    @staticmethod
    def _validate(document: Mapping[str, Any], model: str | None) -> None:
        prompt = document.get("prompt")
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= PROMPT_MAX:
            raise _invalid("prompt", f"ensure this value has between 1 and {PROMPT_MAX} characters")
        variations = document.get("numVariations")
        if variations is not None and (not isinstance(variations, int) or not 1 <= variations <= VARIATIONS_MAX):
            raise _invalid("numVariations", f"ensure this value is between 1 and {VARIATIONS_MAX}")
        seeds = document.get("seeds")
        if seeds is not None:
            if not isinstance(seeds, list) or not 1 <= len(seeds) <= VARIATIONS_MAX:
                raise _invalid("seeds", f"ensure this list has between 1 and {VARIATIONS_MAX} items")
            if variations is not None and len(seeds) != variations:
                raise _invalid("seeds", "the number of seeds must equal numVariations")
        size = document.get("size")
        if size is not None and not (
            isinstance(size, dict)
            and all(isinstance(size.get(k), int) and 1 <= size[k] <= SIZE_MAX for k in ("width", "height"))
        ):
            raise _invalid("size", f"width and height must be between 1 and {SIZE_MAX}")
        if document.get("contentClass") not in (None, "photo", "art"):
            raise _invalid("contentClass", "value is not a valid enumeration member; permitted: 'photo', 'art'")
        if model is not None and model not in MODEL_VERSIONS:
            raise _ApiError(400, {"error_code": "bad_request", "message": f"Unknown x-model-version {model}"})
        if (model or "").endswith("_custom") and not document.get("customModelId"):
            raise _invalid("customModelId", "customModelId is required for a custom model")

    def _status(self, account: _Account, request: Request, _body: bytes) -> tuple[int, Any]:
        job = account.jobs.get(str(request.path_params["job_id"]))
        if job is None:
            raise _ApiError(404, {"error_code": "unknown_job_id", "message": "The job id is unknown."})
        self._advance(job)
        document: dict[str, Any] = {"jobId": job.id, "status": job.status}
        if job.status == "running":
            document["progress"] = round(100 * (1 - job.polls_left / max(self._job_polls, 1)), 1)
        if job.status == "failed" and job.fail is not None:
            document.update(error_code=job.fail[0], message=job.fail[1])
        if job.result is not None:
            document["result"] = job.result
        return 200, document

    def _advance(self, job: _Job) -> None:
        if job.status in ("succeeded", "failed"):
            return
        if job.stalled:
            job.status = "running"
            return
        job.polls_left -= 1
        if job.polls_left > 0:
            job.status = "running"
            return
        if job.fail is not None:
            job.status = "failed"
            return
        job.status, job.result = "succeeded", self._render(job)

    def _render(self, job: _Job) -> dict[str, Any]:
        request = job.request
        size = request.get("size") or {"width": DEFAULT_SIZE[0], "height": DEFAULT_SIZE[1]}
        seeds = list(request.get("seeds") or [])
        count = request.get("numVariations") or len(seeds) or 1
        outputs = []
        for index in range(count):
            seed = (
                seeds[index]
                if index < len(seeds)
                else int(hashlib.sha256(f"{job.id}:{index}".encode()).hexdigest()[:6], 16)
            )
            digest = hashlib.sha256(f"{request['prompt']}:{seed}".encode()).digest()
            image = Image.new("RGB", (size["width"], size["height"]), (digest[0], digest[1], digest[2]))
            buffer = io.BytesIO()
            if self._output_type == "image/png":
                info = PngInfo()
                if self._padding:
                    info.add_text("padding", "p" * self._padding)
                image.save(buffer, format="PNG", pnginfo=info)
                extension = "png"
            else:
                image.save(buffer, format="JPEG", quality=90, comment=b"p" * self._padding)
                extension = "jpg"
            path = f"/images/{job.id}/{index}.{extension}"
            url = self._file_host.put(path, buffer.getvalue(), self._output_type, lifetime=URL_LIFETIME)
            outputs.append({"seed": seed, "image": {"url": url}})
        return {"size": dict(size), "outputs": outputs, "contentClass": request.get("contentClass") or "photo"}


def _json(status: int, document: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(document), status, headers=dict(headers or {}), media_type="application/json")

"""Loopback fakes of the OpenAI and Anthropic HTTP APIs, for the real SDKs to talk to.

One Starlette app serves:

* OpenAI ``POST /v1/chat/completions`` and ``POST /v1/images/generations`` (``Authorization: Bearer``), and the
  same chat route under ``/compat/v1`` (an "OpenAI-compatible server" at another base path);
* Anthropic ``POST /v1/messages`` (an API key in ``x-api-key`` or ``Authorization: Bearer`` — SDK 2.15 sends
  the latter — and an ``anthropic-version`` header).

Every request is recorded (path, headers, JSON body). Each route plays a scripted queue of :class:`Reply`;
when the queue is empty it answers success in the real shape. Shapes follow platform_apis.md §14: errors are
``{error: {message, type, param, code}}`` (OpenAI) and ``{type: "error", error: {type, message}}`` (Anthropic).
"""

import asyncio
import base64
import contextlib
import io
import socket
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

OPENAI_CHAT = "openai.chat"
COMPAT_CHAT = "compat.chat"
OPENAI_IMAGES = "openai.images"
ANTHROPIC_MESSAGES = "anthropic.messages"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a JSON body (None: the route's success body), headers, a delay first.

    ``raw`` sends that text as the body instead (with ``media_type``): a page or a shape no SDK expects.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: str | None = None
    media_type: str = "application/json"

    @property
    def scripted_body(self) -> bool:
        """Whether this reply brings its own body (an error, or a malformed success)."""
        return self.status != 200 or self.body is not None or self.raw is not None


@dataclass(frozen=True)
class Recorded:
    route: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any]


# ------------------------------------------------------------------------------------- scripted replies


def openai_error(status: int, *, type_: str, code: str | None, message: str, **headers: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": None, "code": code}}, headers)


def openai_rate_limited(retry_after: str | None = "1") -> Reply:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return openai_error(
        429,
        type_="requests",
        code="rate_limit_exceeded",
        message="Rate limit reached for requests per min (RPM): Limit 3, Used 3.",
        **headers,
    )


def openai_insufficient_quota() -> Reply:
    return openai_error(
        429,
        type_="insufficient_quota",
        code="insufficient_quota",
        message="You exceeded your current quota, please check your plan and billing details.",
    )


def openai_server_error() -> Reply:
    return openai_error(500, type_="server_error", code=None, message="The server had an error.")


def openai_overloaded() -> Reply:
    return openai_error(503, type_="server_error", code="server_is_overloaded", message="Overloaded.")


def anthropic_error(status: int, type_: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": type_, "message": message}}, headers)


def anthropic_overloaded() -> Reply:
    return anthropic_error(529, "overloaded_error", "Overloaded")


def anthropic_rate_limited(retry_after: str = "1") -> Reply:
    return anthropic_error(
        429, "rate_limit_error", "Number of requests has exceeded your rate limit.", **{"retry-after": retry_after}
    )


def anthropic_billing() -> Reply:
    return anthropic_error(402, "billing_error", "Your credit balance is too low to access the Anthropic API.")


def malformed(body: Any) -> Reply:
    """HTTP 200 with a JSON body that is not the documented shape (``{"choices": "x"}``)."""
    return Reply(body=body)


def html_page() -> Reply:
    """HTTP 200 with an HTML page, as a captive portal or a misrouted proxy answers."""
    return Reply(raw="<!doctype html><html><body><h1>Welcome</h1></body></html>", media_type="text/html")


def slow(delay_s: float) -> Reply:
    """Success, after longer than the client is willing to wait."""
    return Reply(delay_s=delay_s)


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ server


class LLMFake:
    """The fake APIs on ``127.0.0.1:<free port>``, served by uvicorn inside the running event loop."""

    def __init__(self, *, openai_key: str, anthropic_key: str) -> None:
        self.openai_key = openai_key
        self.anthropic_key = anthropic_key
        self.requests: list[Recorded] = []
        self.text = "Fresh copy from the fake model."
        self._scripts: dict[str, deque[Reply]] = {}
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.root = ""
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/compat/v1/chat/completions", self._compat_chat, methods=["POST"]),
                Route("/v1/images/generations", self._openai_images, methods=["POST"]),
                Route("/v1/messages", self._anthropic_messages, methods=["POST"]),
            ]
        )

    # -- lifecycle

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # connections queue from now on: no need to wait for uvicorn to be up
        self.root = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        self._release.set()  # slow handlers return now
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    # What a structured-output (json_schema) chat request gets back; tests set their own.
    json_text = '{"variants": [{"headline": "Fresh"}]}'

    def reset(self) -> None:
        self.json_text = type(self).json_text
        self.requests.clear()
        self._scripts.clear()
        self._release.set()
        self._release = asyncio.Event()

    # -- test helpers

    @property
    def openai_base_url(self) -> str:
        return f"{self.root}/v1"

    @property
    def compat_base_url(self) -> str:
        return f"{self.root}/compat/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.root

    def script(self, route: str, *replies: Reply) -> None:
        self._scripts.setdefault(route, deque()).extend(replies)

    def seen(self, route: str) -> list[Recorded]:
        return [request for request in self.requests if request.route == route]

    # -- handlers

    async def _take(self, route: str, request: Request) -> tuple[Reply | None, dict[str, Any]]:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.requests.append(Recorded(route, request.url.path, dict(request.headers), body))
        queue = self._scripts.get(route)
        reply = queue.popleft() if queue else None
        if reply is not None and reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), reply.delay_s)
        return reply, body

    def _bearer_ok(self, request: Request, key: str) -> bool:
        return request.headers.get("authorization") == f"Bearer {key}"

    async def _openai_chat(self, request: Request) -> Response:
        return await self._chat(OPENAI_CHAT, request)

    async def _compat_chat(self, request: Request) -> Response:
        return await self._chat(COMPAT_CHAT, request)

    async def _chat(self, route: str, request: Request) -> Response:
        reply, body = await self._take(route, request)
        # The "self-hosted" compat server wants no particular key (it still gets whatever the SDK sends).
        if route == OPENAI_CHAT and not self._bearer_ok(request, self.openai_key):
            sent = request.headers.get("authorization", "").removeprefix("Bearer ")
            # Like OpenAI, the answer quotes (part of) the key it got: the client must not pass it on.
            return _json(
                openai_error(
                    401,
                    type_="invalid_request_error",
                    code="invalid_api_key",
                    message=(
                        f"Incorrect API key provided: {sent}. You can find your API key at "
                        "https://platform.openai.com/account/api-keys."
                    ),
                )
            )
        if reply is not None and reply.scripted_body:
            return _json(reply)
        if not body.get("model") or not isinstance(body.get("messages"), list):
            return _json(openai_error(400, type_="invalid_request_error", code=None, message="model and messages"))
        text = self.text
        if body.get("response_format", {}).get("type") == "json_schema":
            text = self.json_text
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": 1_764_600_000,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
            },
            headers={"x-request-id": f"req_{uuid.uuid4().hex[:16]}"},
        )

    async def _openai_images(self, request: Request) -> Response:
        reply, body = await self._take(OPENAI_IMAGES, request)
        if not self._bearer_ok(request, self.openai_key):
            return _json(openai_error(401, type_="invalid_request_error", code="invalid_api_key", message="bad key"))
        if reply is not None and reply.scripted_body:
            return _json(reply)
        width, height = (int(part) for part in str(body.get("size", "1024x1024")).split("x"))
        png = tiny_png(width // 128, height // 128)
        return JSONResponse(
            {
                "created": 1_764_600_000,
                "data": [{"b64_json": base64.b64encode(png).decode()}],
                "output_format": "png",
                "size": body.get("size"),
                "usage": {
                    "input_tokens": 50,
                    "input_tokens_details": {"image_tokens": 0, "text_tokens": 50},
                    "output_tokens": 4160,
                    "total_tokens": 4210,
                },
            }
        )

    async def _anthropic_messages(self, request: Request) -> Response:
        reply, body = await self._take(ANTHROPIC_MESSAGES, request)
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if sent != self.anthropic_key:
            return _json(anthropic_error(401, "authentication_error", "invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return _json(anthropic_error(400, "invalid_request_error", "anthropic-version header is required"))
        if reply is not None and reply.scripted_body:
            return _json(reply)
        if not isinstance(body.get("max_tokens"), int) or not isinstance(body.get("messages"), list):
            return _json(anthropic_error(400, "invalid_request_error", "max_tokens: Field required"))
        text = self.text
        if body.get("output_config", {}).get("format", {}).get("type") == "json_schema":
            text = self.json_text
        return JSONResponse(
            {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 31, "output_tokens": 9},
            },
            headers={"request-id": f"req_{uuid.uuid4().hex[:16]}"},
        )


def _json(reply: Reply) -> Response:
    if reply.raw is not None:
        return Response(reply.raw, status_code=reply.status, headers=reply.headers, media_type=reply.media_type)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

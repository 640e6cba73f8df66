"""The HTTP/1.1 and JSON-RPC wire of the load generator: raw keep-alive connections and the verdict on a call.

Request bytes are written by hand and responses are read by a minimal parser that understands
``Content-Length`` and ``Transfer-Encoding: chunked`` bodies, and pulls the JSON-RPC message out
of ``text/event-stream`` bodies (``data:`` lines): cheap enough that the server, not the client, is
what gets measured.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 10.0
ERROR_TEXT_LIMIT = 200

JsonObject = dict[str, Any]


class ProtocolError(Exception):
    """The server answered with something this client cannot interpret."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Host, port and path of an HTTP endpoint."""

    host: str
    port: int
    path: str

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"expected http://host:port/path, got {url!r}")
        return cls(parts.hostname, parts.port, parts.path or "/")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fully read HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """Verdict on one ``tools/call``: ``ok`` or an ``error`` text; ``result`` when ok."""

    ok: bool
    error: str | None = None
    result: JsonObject | None = None


# --------------------------------------------------------------------------- HTTP layer


def request_prefix(endpoint: Endpoint, headers: dict[str, str]) -> bytes:
    """Request line and headers up to (and including) the ``Content-Length:`` name."""
    lines = [f"POST {endpoint.path} HTTP/1.1", f"Host: {endpoint.host}:{endpoint.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise ProtocolError(f"bad status line {lines[0]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


class HttpConnection:
    """One keep-alive HTTP/1.1 connection with a single request in flight."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.busy_since: float | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._aborted = False

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.endpoint.host, self.endpoint.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
        self.busy_since = None

    def abort(self) -> None:
        """Drop the connection under a pending request (watchdog); the request fails with TimeoutError."""
        if self._writer is not None:
            self._aborted = True
            self._writer.transport.abort()

    async def post(self, prefix: bytes, body: bytes) -> HttpResponse:
        """Send ``prefix`` (from :func:`request_prefix`) plus ``body``; read the whole answer.

        No per-request timer (it would cost more than the rest of the client): a watchdog calls
        :meth:`abort` on requests older than the timeout.
        """
        if self._reader is None or self._writer is None:
            raise ProtocolError("connection is not open")
        self.busy_since = time.perf_counter()
        self._writer.write(b"%s%d\r\n\r\n%s" % (prefix, len(body), body))
        try:
            response = await self._read_response(self._reader)
        except (OSError, asyncio.IncompleteReadError) as exc:
            if self._aborted:
                self._aborted = False
                raise TimeoutError(f"no answer within {REQUEST_TIMEOUT_S:g} s") from exc
            raise
        self.busy_since = None
        if not response.keep_alive:
            self.close()
        return response

    async def _read_response(self, reader: asyncio.StreamReader) -> HttpResponse:
        status, headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
        keep_alive = headers.get("connection", "").lower() != "close"
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body, keep_alive = await reader.read(), False
        return HttpResponse(status, headers, body, keep_alive)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


# --------------------------------------------------------------------------- JSON-RPC layer


def sse_messages(body: bytes) -> list[JsonObject]:
    """JSON objects carried by the ``data:`` lines of a ``text/event-stream`` body."""
    messages: list[JsonObject] = []
    text = body.decode("utf-8").replace("\r\n", "\n")
    for event in text.split("\n\n"):
        data = [line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:")]
        if data and (payload := "\n".join(data).strip()):
            message = json.loads(payload)
            if isinstance(message, dict):
                messages.append(message)
    return messages


def response_message(response: HttpResponse, request_id: int) -> JsonObject:
    """The JSON-RPC response to ``request_id`` from a JSON or SSE body."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for message in sse_messages(response.body):
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return message
        raise ProtocolError(f"no response to id {request_id} in event stream")
    message = json.loads(response.body)
    if not isinstance(message, dict):
        raise ProtocolError("JSON-RPC response is not an object")
    return message


def clip(text: str) -> str:
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"


def _tool_error_text(result: JsonObject) -> str:
    content = result.get("content")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("text", ""))
    return json.dumps(result)


def judge_call(response: HttpResponse, request_id: int) -> CallOutcome:
    """OK only for HTTP 200 with a JSON-RPC result whose ``isError`` is false."""
    if response.status != 200:
        text = response.body.decode("utf-8", "replace")
        return CallOutcome(False, clip(f"HTTP {response.status}: {text}"))
    message = response_message(response, request_id)
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        return CallOutcome(False, clip(f"JSON-RPC {error.get('code')}: {error.get('message')}"))
    result = message.get("result")
    if not isinstance(result, dict):
        return CallOutcome(False, "JSON-RPC response without a result object")
    if result.get("isError") is not False:
        return CallOutcome(False, clip(f"isError: {_tool_error_text(result)}"))
    return CallOutcome(True, result=result)


def encode(message: JsonObject) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()

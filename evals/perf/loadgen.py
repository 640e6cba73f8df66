"""Low-overhead HTTP/1.1 load generator for MCP ``tools/call`` and plain JSON-RPC endpoints.

Each connection is a raw ``asyncio`` stream with keep-alive and exactly one request in flight.
Request bytes are written by hand and responses are read by a minimal parser that understands
``Content-Length`` and ``Transfer-Encoding: chunked`` bodies, and pulls the JSON-RPC message out
of ``text/event-stream`` bodies (``data:`` lines). That keeps the client well under 0.2 core at a
few thousand calls/s, so the server, not the client, is what gets measured.

Protocols (see MCP_NOTES §5):

``modern``  2026-07-28, sessionless: no ``initialize``; every request carries the
            ``MCP-Protocol-Version``/``Mcp-Method``/``Mcp-Name`` headers and a ``_meta`` envelope.
``legacy``  2025-11-25 handshake era: ``initialize`` + ``notifications/initialized`` once per
            connection, then plain ``tools/call``. A returned ``Mcp-Session-Id`` is echoed.
``plain``   JSON-RPC-shaped POST with no MCP headers (the Starlette baseline).

A call counts as OK only if the answer is HTTP 200 and a JSON-RPC result whose ``isError`` is
``false``; everything else is counted as an error, with a few sample messages kept.

Standalone use (prints one JSON line)::

    python evals/perf/loadgen.py http://127.0.0.1:8000/mcp --protocol modern \\
        --tool add --args '{"a": 1, "b": 2}' --connections 16 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
MODERN_META: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
}
ACCEPT_MCP = "application/json, text/event-stream"
REQUEST_TIMEOUT_S = 10.0
WATCHDOG_PERIOD_S = 0.5
RECONNECT_PAUSE_S = 0.05
MAX_DISTINCT_ERRORS = 20
ERROR_TEXT_LIMIT = 200

JsonObject = dict[str, Any]
CallFactory = Callable[[int, int], tuple[str, JsonObject]]
"""Maps (connection number, per-connection sequence number) to (tool name, arguments)."""

_connection_numbers = itertools.count(1)


class Protocol(StrEnum):
    """Wire dialect spoken by a session."""

    MODERN = "modern"
    LEGACY = "legacy"
    PLAIN = "plain"


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


def _clip(text: str) -> str:
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
        return CallOutcome(False, _clip(f"HTTP {response.status}: {text}"))
    message = response_message(response, request_id)
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        return CallOutcome(False, _clip(f"JSON-RPC {error.get('code')}: {error.get('message')}"))
    result = message.get("result")
    if not isinstance(result, dict):
        return CallOutcome(False, "JSON-RPC response without a result object")
    if result.get("isError") is not False:
        return CallOutcome(False, _clip(f"isError: {_tool_error_text(result)}"))
    return CallOutcome(True, result=result)


def encode(message: JsonObject) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- sessions


class ToolSession:
    """A connection that speaks one protocol and calls tools on it (handshake when legacy)."""

    def __init__(self, endpoint: Endpoint, protocol: Protocol) -> None:
        self.endpoint = endpoint
        self.protocol = protocol
        self.number = next(_connection_numbers)
        self.session_id: str | None = None
        self.session_ids_seen = 0
        self._http = HttpConnection(endpoint)
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._prefixes: dict[str, bytes] = {}

    async def open(self) -> None:
        await self._http.connect()
        self._prefixes.clear()
        if self.protocol is Protocol.LEGACY:
            await self._handshake()

    def close(self) -> None:
        self._http.close()

    def abort_if_stuck(self, limit: float) -> None:
        """Abort the pending request if it was sent before ``limit`` (perf_counter time)."""
        if self._http.busy_since is not None and self._http.busy_since < limit:
            self._http.abort()

    def next_sequence(self) -> int:
        """Per-session call counter that keeps running across phases (unique write keys)."""
        return next(self._sequence)

    async def call(self, tool: str, arguments: JsonObject) -> CallOutcome:
        """One ``tools/call``; reopens the connection first if the server closed it."""
        if not self._http.is_open:
            await self.open()
        request_id = next(self._ids)
        params: JsonObject = {"name": tool, "arguments": arguments}
        if self.protocol is Protocol.MODERN:
            params["_meta"] = MODERN_META
        body = encode({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
        response = await self._http.post(self._prefix_for(tool), body)
        return judge_call(response, request_id)

    def _prefix_for(self, tool: str) -> bytes:
        prefix = self._prefixes.get(tool)
        if prefix is None:
            prefix = self._prefixes[tool] = request_prefix(self.endpoint, self._headers(tool))
        return prefix

    def _headers(self, tool: str) -> dict[str, str]:
        if self.protocol is Protocol.PLAIN:
            return {"Content-Type": "application/json", "Accept": "application/json"}
        headers = {"Accept": ACCEPT_MCP, "Content-Type": "application/json"}
        if self.protocol is Protocol.MODERN:
            headers |= {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/call", "Mcp-Name": tool}
        else:
            headers["MCP-Protocol-Version"] = LEGACY_VERSION
            if self.session_id:
                headers["Mcp-Session-Id"] = self.session_id
        return headers

    async def _handshake(self) -> None:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "promptsales-loadgen", "version": "1"},
            },
        }
        plain_headers = {"Accept": ACCEPT_MCP, "Content-Type": "application/json"}
        response = await self._http.post(request_prefix(self.endpoint, plain_headers), encode(init))
        if response.status != 200 or "result" not in response_message(response, 0):
            raise ProtocolError(f"initialize failed: HTTP {response.status} {response.body[:200]!r}")
        self.session_id = response.headers.get("mcp-session-id")
        self.session_ids_seen += self.session_id is not None
        notice = encode({"jsonrpc": "2.0", "method": "notifications/initialized"})
        ack = await self._http.post(request_prefix(self.endpoint, self._headers("")), notice)
        if ack.status not in (200, 202, 204):
            raise ProtocolError(f"notifications/initialized failed: HTTP {ack.status}")


# --------------------------------------------------------------------------- statistics


@dataclass(slots=True)
class PhaseStats:
    """What one load phase produced, as seen by the client."""

    wall_s: float = 0.0
    loadgen_cpu_s: float = 0.0
    target_rate: float | None = None
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    @property
    def calls_per_s(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    @property
    def loadgen_cpu_fraction(self) -> float:
        return self.loadgen_cpu_s / self.wall_s if self.wall_s else 0.0

    def record_error(self, text: str) -> None:
        self.errors += 1
        if text in self.error_samples or len(self.error_samples) < MAX_DISTINCT_ERRORS:
            self.error_samples[text] = self.error_samples.get(text, 0) + 1

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of OK-call latency in ms (NaN without data)."""
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
        return ordered[rank - 1] * 1000.0

    def _ms(self, q: float) -> float | None:
        value = self.percentile_ms(q)
        return None if math.isnan(value) else round(value, 2)

    def top_error(self) -> str | None:
        if not self.error_samples:
            return None
        return max(self.error_samples.items(), key=lambda item: item[1])[0]

    def summary(self) -> JsonObject:
        return {
            "ok": self.ok,
            "errors": self.errors,
            "wall_s": round(self.wall_s, 3),
            "calls_per_s": round(self.calls_per_s, 1),
            "target_rate": None if self.target_rate is None else round(self.target_rate, 1),
            "p50_ms": self._ms(0.50),
            "p90_ms": self._ms(0.90),
            "p99_ms": self._ms(0.99),
            "max_ms": self._ms(1.0),
            "loadgen_cpu_fraction": round(self.loadgen_cpu_fraction, 3),
            "error_samples": dict(sorted(self.error_samples.items(), key=lambda item: -item[1])[:5]),
        }


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- load phases


class SessionPool:
    """N sessions driven together; reuse it across warm-up, saturation and paced phases."""

    def __init__(self, endpoint: Endpoint, protocol: Protocol, connections: int) -> None:
        self.sessions = [ToolSession(endpoint, protocol) for _ in range(connections)]

    async def __aenter__(self) -> SessionPool:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await asyncio.gather(*(session.open() for session in self.sessions))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for session in self.sessions:
            session.close()

    @property
    def session_ids_seen(self) -> int:
        return sum(session.session_ids_seen for session in self.sessions)

    async def run(self, factory: CallFactory, duration_s: float, rate: float | None = None) -> PhaseStats:
        """Closed loop for ``duration_s``; with ``rate`` (calls/s, all connections) paced instead.

        Paced: each connection sends at a fixed interval ``connections / rate`` (staggered), and
        latency counts from the time a call was *due*, so a server that falls behind shows it.
        """
        stats = PhaseStats(target_rate=rate)
        interval = len(self.sessions) / rate if rate else None
        cpu0, start = process_cpu_seconds(), time.perf_counter()
        deadline = start + duration_s
        count = len(self.sessions)
        drivers = [
            self._drive(session, factory, stats, deadline, _schedule(start, interval, index, count))
            for index, session in enumerate(self.sessions)
        ]
        watchdog = asyncio.create_task(self._watchdog())
        try:
            await asyncio.gather(*drivers)
        finally:
            watchdog.cancel()
        stats.wall_s = time.perf_counter() - start
        stats.loadgen_cpu_s = process_cpu_seconds() - cpu0
        return stats

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD_S)
            limit = time.perf_counter() - REQUEST_TIMEOUT_S
            for session in self.sessions:
                session.abort_if_stuck(limit)

    async def _drive(
        self,
        session: ToolSession,
        factory: CallFactory,
        stats: PhaseStats,
        deadline: float,
        schedule: tuple[float, float] | None,
    ) -> None:
        due = schedule[0] if schedule else 0.0
        while True:
            now = time.perf_counter()
            if schedule:
                if due >= deadline:
                    return
                if due > now:
                    await asyncio.sleep(due - now)
                started, due = due, due + schedule[1]
            elif now >= deadline:
                return
            else:
                started = now
            tool, arguments = factory(session.number, session.next_sequence())
            await _timed_call(session, tool, arguments, stats, started)


def _schedule(start: float, interval: float | None, index: int, count: int) -> tuple[float, float] | None:
    """(first due time, interval) for connection ``index`` of ``count``, staggered; None if closed loop."""
    if interval is None:
        return None
    return start + interval * index / count, interval


async def _timed_call(
    session: ToolSession, tool: str, arguments: JsonObject, stats: PhaseStats, started: float
) -> None:
    try:
        outcome = await session.call(tool, arguments)
    except (OSError, EOFError, TimeoutError, ValueError, ProtocolError, asyncio.IncompleteReadError) as exc:
        session.close()
        stats.record_error(_clip(f"{type(exc).__name__}: {exc}"))
        await asyncio.sleep(RECONNECT_PAUSE_S)
        return
    if outcome.ok:
        stats.latencies_s.append(time.perf_counter() - started)
    else:
        stats.record_error(outcome.error or "unknown error")


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="endpoint, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--protocol", choices=[p.value for p in Protocol], default=Protocol.MODERN.value)
    parser.add_argument("--tool", default="add")
    parser.add_argument("--args", default="{}", help="tool arguments as a JSON object")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=None, help="paced total calls/s (default: closed loop)")
    return parser.parse_args(argv)


async def _cli(options: argparse.Namespace) -> JsonObject:
    arguments = json.loads(options.args)
    endpoint, protocol = Endpoint.from_url(options.url), Protocol(options.protocol)

    def factory(_connection: int, _sequence: int) -> tuple[str, JsonObject]:
        return options.tool, arguments

    async with SessionPool(endpoint, protocol, options.connections) as pool:
        if options.warmup > 0:
            await pool.run(factory, options.warmup, options.rate)
        stats = await pool.run(factory, options.duration, options.rate)
        return {
            "protocol": protocol.value,
            "tool": options.tool,
            "connections": options.connections,
            "session_ids_seen": pool.session_ids_seen,
            **stats.summary(),
        }


def main(argv: Sequence[str] | None = None) -> int:
    summary = asyncio.run(_cli(_parse_args(argv)))
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

"""Low-overhead HTTP/1.1 load generator for MCP ``tools/call`` and plain JSON-RPC endpoints.

Each connection is a raw ``asyncio`` stream with keep-alive and exactly one request in flight.
Request bytes are written by hand and responses read by a minimal parser (``wire.py``). That keeps
the client well under 0.2 core at a few thousand calls/s, so the server, not the client, is what
gets measured. A pool can give each connection its own headers (e.g. a tenant's bearer token).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wire import REQUEST_TIMEOUT_S as REQUEST_TIMEOUT_S
from wire import CallOutcome, HttpConnection, ProtocolError, clip, encode, judge_call, request_prefix, response_message
from wire import Endpoint as Endpoint
from wire import JsonObject as JsonObject

MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
MODERN_META: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
}
ACCEPT_MCP = "application/json, text/event-stream"
WATCHDOG_PERIOD_S = 0.5
RECONNECT_PAUSE_S = 0.05
MAX_DISTINCT_ERRORS = 20
CallFactory = Callable[[int, int], tuple[str, JsonObject]]
"""Maps (connection number, per-connection sequence number) to (tool name, arguments)."""
HeadersFor = Callable[[int], Mapping[str, str]]
"""Maps a connection's index in its pool (0, 1, ...) to extra request headers (e.g. its bearer token)."""

_connection_numbers = itertools.count(1)


class Protocol(StrEnum):
    """Wire dialect spoken by a session."""

    MODERN = "modern"
    LEGACY = "legacy"
    PLAIN = "plain"


# --------------------------------------------------------------------------- sessions


class ToolSession:
    """A connection that speaks one protocol and calls tools on it (handshake when legacy)."""

    def __init__(self, endpoint: Endpoint, protocol: Protocol, headers: Mapping[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.protocol = protocol
        self.extra_headers = dict(headers or {})
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
            return {"Content-Type": "application/json", "Accept": "application/json", **self.extra_headers}
        headers = {"Accept": ACCEPT_MCP, "Content-Type": "application/json", **self.extra_headers}
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
        plain_headers = {"Accept": ACCEPT_MCP, "Content-Type": "application/json", **self.extra_headers}
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

    def __init__(
        self, endpoint: Endpoint, protocol: Protocol, connections: int, headers_for: HeadersFor | None = None
    ) -> None:
        self.sessions = [
            ToolSession(endpoint, protocol, headers_for(index) if headers_for else None) for index in range(connections)
        ]
        self._calls_left: int | None = None

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

    async def run(
        self, factory: CallFactory, duration_s: float, rate: float | None = None, max_calls: int | None = None
    ) -> PhaseStats:
        """Closed loop for ``duration_s``; with ``rate`` (calls/s, all connections) paced instead.

        Paced: each connection sends at a fixed interval ``connections / rate`` (staggered), and
        latency counts from the time a call was *due*, so a server that falls behind shows it.
        ``max_calls`` ends the phase once that many calls (OK or not) were sent, if that comes first.
        """
        stats = PhaseStats(target_rate=rate)
        self._calls_left = max_calls
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
            if self._calls_left is not None:
                if self._calls_left <= 0:
                    return
                self._calls_left -= 1
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
        stats.record_error(clip(f"{type(exc).__name__}: {exc}"))
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

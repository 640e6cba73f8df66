"""The ``http_requests_inflight`` gauge at /metrics: up while a request is served, back to 0 however it ends."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest_asyncio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.gateway import build_gateway
from promptsales.servers.http import http_app
from promptsales.servers.runtime import Runtime

GAUGE_LINE = re.compile(r"^http_requests_inflight (\S+)$", re.MULTILINE)


@dataclass
class Served:
    http: httpx.AsyncClient
    entered: asyncio.Event
    release: asyncio.Event

    async def inflight(self) -> float:
        """The gauge as a Prometheus scrape of this process reads it."""
        scrape = await self.http.get("/metrics")
        assert scrape.status_code == 200
        found = GAUGE_LINE.search(scrape.text)
        assert found is not None, "http_requests_inflight is missing from /metrics"
        return float(found.group(1))


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    # The real HTTP app of one context, plus two routes that let the test hold a request open or make one fail.
    runtime = Runtime(Settings(data_dir=tmp_path, toolsets=("crm",), redis_url=None))
    gateway = build_gateway(runtime)
    entered, release = asyncio.Event(), asyncio.Event()

    @gateway.custom_route("/test/hold", methods=["GET"])
    async def hold(request: Request) -> Response:
        entered.set()
        await release.wait()
        return PlainTextResponse("released")

    @gateway.custom_route("/test/fail", methods=["GET"])
    async def fail(request: Request) -> Response:
        raise RuntimeError("the handler broke")

    app = http_app(gateway, runtime)
    # The app's exception reaches the client as a 500 rather than being re-raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield Served(http, entered, release)


async def test_a_request_in_flight_shows_as_one_and_zero_once_it_is_answered(served: Served) -> None:
    assert await served.inflight() == 0
    held = asyncio.create_task(served.http.get("/test/hold"))
    await served.entered.wait()
    assert await served.inflight() == 1
    served.release.set()
    assert (await held).text == "released"
    assert await served.inflight() == 0


async def test_a_failing_request_returns_the_gauge_to_zero(served: Served) -> None:
    failed = await served.http.get("/test/fail")
    assert failed.status_code == 500
    assert await served.inflight() == 0


async def test_a_cancelled_request_returns_the_gauge_to_zero(served: Served) -> None:
    held = asyncio.create_task(served.http.get("/test/hold"))
    await served.entered.wait()
    assert await served.inflight() == 1
    held.cancel()  # what a client disconnect does to the handler's task
    await asyncio.gather(held, return_exceptions=True)
    assert held.cancelled()
    assert await served.inflight() == 0


async def test_requests_refused_before_any_route_are_counted_and_released(served: Served) -> None:
    refused = await served.http.post("/mcp", content=b"x" * (5 * 1024 * 1024))  # over the 4 MiB body limit
    assert refused.status_code == 413
    assert await served.inflight() == 0

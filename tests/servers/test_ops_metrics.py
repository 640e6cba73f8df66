"""/metrics shows inbound webhook outcomes by source and the database pool (outbox metrics: integration tests)."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest_asyncio
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import create_async_engine

from promptsales.servers.ops_metrics import DbPoolCollector
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import served_over_http


@pytest_asyncio.fixture
async def served(make_runtime: Callable[..., Runtime]) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with served_over_http(make_runtime()) as served_app:
        yield served_app


def _deliveries(runtime: Runtime, source: str, outcome: str) -> float:
    labels = {"source": source, "outcome": outcome}
    return runtime.registry.get_sample_value("promptsales_webhook_deliveries_total", labels) or 0.0


async def test_webhook_deliveries_are_counted_by_source_and_outcome(served: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, http = served
    forged = await http.post(
        "/webhooks/paypal", content=b'{"id": "WH-1"}', headers={"content-type": "application/json"}
    )
    assert 400 <= forged.status_code < 500
    huge = await http.post("/webhooks/paypal", content=b"{" + b" " * (300 * 1024) + b"}")
    assert huge.status_code == 413
    unknown = await http.post("/webhooks/no-such-platform-123", content=b"{}")
    assert unknown.status_code == 404
    assert _deliveries(runtime, "paypal", "rejected") == 2
    # A platform that does not exist is not a label of its own: callers cannot grow the series set.
    assert _deliveries(runtime, "unknown", "rejected") == 1
    assert _deliveries(runtime, "no-such-platform-123", "rejected") == 0
    exposed = (await http.get("/metrics")).text
    assert 'promptsales_webhook_deliveries_total{outcome="rejected",source="paypal"} 2.0' in exposed
    assert "promptsales_outbox_last_success_timestamp_seconds" in exposed


def test_the_pool_collector_reports_a_queue_pool_and_nothing_for_a_pool_that_does_not_count() -> None:
    registry = CollectorRegistry()
    engine = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=4)
    registry.register(DbPoolCollector(lambda: engine))
    assert registry.get_sample_value("promptsales_db_pool_size") == 4
    assert registry.get_sample_value("promptsales_db_pool_checked_out") == 0
    idle = CollectorRegistry()
    idle.register(DbPoolCollector(lambda: None))
    assert list(idle.collect()) == []

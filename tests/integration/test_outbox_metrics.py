"""The relay reports to its observer: the server's outbox metrics show published events, lag and failures."""

import asyncio
from datetime import timedelta

from prometheus_client import CollectorRegistry

from promptsales.domain_core.infrastructure.outbox import InProcessBus, OutboxRelay
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.events import DomainEvent
from promptsales.servers.ops_metrics import OutboxMetrics
from tests.integration.conftest import create_organization, new_tenant


class SignallingMetrics(OutboxMetrics):
    """Outbox metrics that also tell the test when a relay pass ended."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.passed = asyncio.Event()
        self.failed = asyncio.Event()

    def pass_succeeded(self) -> None:
        super().pass_succeeded()
        self.passed.set()

    def pass_failed(self) -> None:
        super().pass_failed()
        self.failed.set()


class BrokenPublisher:
    """A publisher whose broker is down."""

    async def publish(self, events: list[DomainEvent]) -> None:
        raise ConnectionError("broker down")


def _value(registry: CollectorRegistry, name: str) -> float:
    value = registry.get_sample_value(name)
    assert value is not None, name
    return value


async def test_a_relay_pass_counts_published_events_and_their_lag(sqlite_uow: UnitOfWorkFactory) -> None:
    registry = CollectorRegistry()
    metrics = SignallingMetrics(registry)
    tenant = new_tenant()
    await create_organization(sqlite_uow, tenant, "Acme")
    await create_organization(sqlite_uow, tenant, "Globex")
    relay = OutboxRelay(sqlite_uow, InProcessBus(sqlite_uow), poll_seconds=0.01, observer=metrics)
    started = _value(registry, "promptsales_outbox_last_success_timestamp_seconds")
    await relay.start()
    try:
        async with asyncio.timeout(10):
            await metrics.passed.wait()
    finally:
        await relay.stop()
    assert _value(registry, "promptsales_outbox_published_events_total") >= 2
    assert _value(registry, "promptsales_outbox_relay_failures_total") == 0
    assert _value(registry, "promptsales_outbox_last_success_timestamp_seconds") >= started


async def test_a_failing_relay_counts_failures_and_keeps_the_last_success_time(sqlite_uow: UnitOfWorkFactory) -> None:
    registry = CollectorRegistry()
    metrics = SignallingMetrics(registry)
    await create_organization(sqlite_uow, new_tenant(), "Initech")
    relay = OutboxRelay(sqlite_uow, BrokenPublisher(), poll_seconds=0.01, observer=metrics)
    before = _value(registry, "promptsales_outbox_last_success_timestamp_seconds")
    await relay.start()
    try:
        async with asyncio.timeout(10):
            await metrics.failed.wait()
    finally:
        await relay.stop()
    assert _value(registry, "promptsales_outbox_relay_failures_total") >= 1
    assert _value(registry, "promptsales_outbox_published_events_total") == 0
    assert _value(registry, "promptsales_outbox_last_success_timestamp_seconds") == before


def test_lag_is_the_oldest_event_of_the_pass_and_drops_to_zero_when_nothing_waits() -> None:
    registry = CollectorRegistry()
    now = DomainEvent(type="t", tenant_id="a", payload={}).occurred_at
    metrics = OutboxMetrics(registry, clock=lambda: now)
    metrics.published([DomainEvent(type="t", tenant_id="a", payload={}, occurred_at=now - timedelta(seconds=7))])
    metrics.published([DomainEvent(type="t", tenant_id="b", payload={}, occurred_at=now - timedelta(seconds=3))])
    metrics.pass_succeeded()
    assert _value(registry, "promptsales_outbox_lag_seconds") == 7
    assert _value(registry, "promptsales_outbox_published_events_total") == 2
    metrics.pass_succeeded()
    assert _value(registry, "promptsales_outbox_lag_seconds") == 0

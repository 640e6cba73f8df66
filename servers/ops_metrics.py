"""Prometheus metrics beyond tool calls: outbox relay lag, inbound webhooks and the database pool."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from promptsales.domain_core.shared.events import DomainEvent


class OutboxMetrics:
    """Implements the relay's observer: events published, how late, and when a pass last succeeded."""

    def __init__(self, registry: CollectorRegistry, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._clock = clock
        self.published_events = Counter(
            "promptsales_outbox_published_events", "Outbox events handed to the publisher.", registry=registry
        )
        self.lag = Gauge(
            "promptsales_outbox_lag_seconds",
            "Age of the oldest event in the relay's latest published batch (0 after a pass that found none).",
            registry=registry,
        )
        self.failed_passes = Counter(
            "promptsales_outbox_relay_failures", "Relay passes that failed (events stay pending).", registry=registry
        )
        self.last_success = Gauge(
            "promptsales_outbox_last_success_timestamp_seconds",
            "Unix time of the relay's latest pass that ended without error.",
            registry=registry,
        )
        # A replica that has just started has not failed: the staleness alert counts from its start.
        self.last_success.set(time.time())
        self._pass_lag: float | None = None

    def published(self, events: list[DomainEvent]) -> None:
        """Count a published batch and record how long its oldest event waited."""
        if not events:
            return
        now = self._clock()
        oldest = min(event.occurred_at for event in events)
        self.published_events.inc(len(events))
        lag = max(0.0, (now - oldest).total_seconds())
        # Several batches in one pass: the gauge keeps the worst of the pass.
        self._pass_lag = lag if self._pass_lag is None else max(lag, self._pass_lag)
        self.lag.set(self._pass_lag)

    def pass_succeeded(self) -> None:
        """A pass drained what it was asked to; an empty pass means nothing waits."""
        if self._pass_lag is None:
            self.lag.set(0)
        self._pass_lag = None
        self.last_success.set(time.time())

    def pass_failed(self) -> None:
        """A pass failed; the lag gauge keeps its last value and the last-success time goes stale."""
        self._pass_lag = None
        self.failed_passes.inc()


class WebhookMetrics:
    """Inbound webhook deliveries by source and outcome (accepted 2xx, rejected 4xx, failed 5xx)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "promptsales_webhook_deliveries",
            "Inbound webhook deliveries by source platform and outcome.",
            ["source", "outcome"],
            registry=registry,
        )

    def record(self, source: str, status_code: int) -> None:
        """Count one delivery by the HTTP status the route answered."""
        outcome = "accepted" if status_code < 400 else "rejected" if status_code < 500 else "failed"
        self.deliveries.labels(source=source, outcome=outcome).inc()


class DbPoolCollector(Collector):
    """Reads the engine's connection pool on each scrape (no work between scrapes)."""

    def __init__(self, engine: Callable[[], AsyncEngine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Pool size and checked-out connections; nothing when the pool does not count (SQLite's)."""
        engine = self._engine()
        pool = engine.sync_engine.pool if engine is not None else None
        size = getattr(pool, "size", None)
        checked_out = getattr(pool, "checkedout", None)
        if not callable(size) or not callable(checked_out):
            return
        capacity = GaugeMetricFamily("promptsales_db_pool_size", "Connections the pool keeps open (no overflow).")
        capacity.add_metric([], float(size()))
        yield capacity
        used = GaugeMetricFamily("promptsales_db_pool_checked_out", "Pool connections in use now.")
        used.add_metric([], float(checked_out()))
        yield used
        overflow = getattr(pool, "overflow", None)
        if callable(overflow):
            extra = GaugeMetricFamily("promptsales_db_pool_overflow", "Connections open beyond the pool size.")
            extra.add_metric([], float(max(0, overflow())))
            yield extra

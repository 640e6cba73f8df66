"""Outbox relay: publishes committed events at least once; consumers dedupe by event id."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from promptsales.domain_core.infrastructure.background import BackgroundTask
from promptsales.domain_core.infrastructure.tables import OutboxEventRecord, ProcessedEventRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.infrastructure.upsert import insert_ignore
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.events import DomainEvent

log = structlog.get_logger(__name__)
BATCH_SIZE = 200
BATCH_DELAY_SECONDS = 0.05


class EventPublisher(Protocol):
    """Where the relay hands committed events (in-process bus or Redis Streams)."""

    async def publish(self, events: list[DomainEvent]) -> None: ...


EventHandler = Callable[[UnitOfWork, DomainEvent], Awaitable[None]]
# Whether a consumer can have anything to do with an event, from the event alone (no unit is opened when not).
EventFilter = Callable[[DomainEvent], bool]


class RelayObserver(Protocol):
    """Told what each relay pass did, so the server can export outbox lag and failures as metrics."""

    def published(self, events: list[DomainEvent]) -> None: ...

    def pass_succeeded(self) -> None: ...

    def pass_failed(self) -> None: ...


def to_event(record: OutboxEventRecord) -> DomainEvent:
    """Rebuild the domain event from its outbox row."""
    return DomainEvent(
        id=record.id,
        type=record.type,
        tenant_id=record.tenant_id,
        payload=record.payload,
        occurred_at=record.occurred_at,
    )


class OutboxRelay:
    """Moves unpublished outbox rows to the publisher; nudged after commits, polls to recover."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        publisher: EventPublisher,
        *,
        poll_seconds: float = 1.0,
        observer: RelayObserver | None = None,
    ) -> None:
        self._uow = uow_factory
        self._publisher = publisher
        self._observer = observer
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._background = BackgroundTask("outbox-relay")
        self._nudged: set[str] = set()

    def nudge(self, tenant_id: str) -> None:
        """Called after a commit that wrote events, so they go out without waiting for the poll."""
        self._nudged.add(tenant_id)
        self._wakeup.set()

    async def start(self) -> None:
        """Run the relay loop in the background."""
        self._background.start(self._run)

    async def stop(self) -> None:
        """Stop the loop; unpublished rows stay in the outbox for the next start."""
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that races with nudge() setting the
            # event (gh-86296), so stop() would wait forever (seen as `promptsales crm import` hanging).
            polled = False
            try:
                async with asyncio.timeout(self._poll_seconds):
                    await self._wakeup.wait()
            except TimeoutError:
                polled = True
            self._wakeup.clear()
            # Let a burst of commits accumulate so one relay pass publishes them together.
            await asyncio.sleep(BATCH_DELAY_SECONDS)
            # A nudge names its tenants; only the periodic poll scans for every tenant's leftovers.
            tenants, self._nudged = self._nudged, set()
            try:
                await self.drain(None if polled else tenants)
            except Exception:
                # Publishing failed (e.g. Redis down): rows stay pending and the next poll retries them.
                log.warning("outbox_relay_failed", exc_info=True)
                if self._observer is not None:
                    self._observer.pass_failed()
            else:
                if self._observer is not None:
                    self._observer.pass_succeeded()

    async def drain(self, tenants: set[str] | None = None) -> int:
        """Publish pending events now (of ``tenants``, or of every tenant); returns how many went out."""
        published = 0
        for tenant_id in sorted(tenants) if tenants is not None else await self._pending_tenants():
            while True:
                count = await self._publish_batch(tenant_id)
                published += count
                if count < BATCH_SIZE:
                    break
        return published

    async def _pending_tenants(self) -> list[str]:
        engine: AsyncEngine = self._uow.engine
        async with engine.connect() as plain:
            # Read-only: on SQLite this starts a deferred transaction instead of taking the write lock.
            connection = await plain.execution_options(promptsales_read_only=True)
            if engine.dialect.name == "postgresql":
                rows = await connection.execute(text("SELECT promptsales_outbox_pending_tenants()"))
            else:
                rows = await connection.execute(
                    text("SELECT DISTINCT tenant_id FROM outbox_events WHERE published_at IS NULL")
                )
            return [row[0] for row in rows]

    async def _publish_batch(self, tenant_id: str) -> int:
        caller = Caller(tenant_id=tenant_id, actor_id="outbox-relay", actor_kind="system", source="system")
        if self._uow.dialect == "sqlite":
            return await self._publish_batch_unlocked(caller)
        async with self._uow.begin(caller) as uow:
            # Claim and mark in one statement; the row locks keep concurrent relays off this batch, and a
            # failed publish rolls the marks back so the rows stay pending.
            events = await _claim_pending(uow)
            if events:
                await self._publisher.publish(events)
                self._observe(events)
            return len(events)

    async def _publish_batch_unlocked(self, caller: Caller) -> int:
        # SQLite has a single writer: publishing inside the write transaction would block an in-process
        # consumer's own transaction (a deadlock until busy_timeout). Read, publish, then mark instead;
        # a crash in between republishes the batch, which consumers dedupe by event id.
        async with self._uow.begin(caller, read_only=True) as uow:
            records = await _pending_records(uow, lock=False)
        if not records:
            return 0
        events = [to_event(r) for r in records]
        await self._publisher.publish(events)
        async with self._uow.begin(caller) as uow:
            await _mark_published(uow, [r.id for r in records])
        self._observe(events)
        return len(records)

    def _observe(self, events: list[DomainEvent]) -> None:
        if self._observer is not None:
            self._observer.published(events)


async def _claim_pending(uow: UnitOfWork) -> list[DomainEvent]:
    batch = (
        select(col(OutboxEventRecord.id))
        .where(col(OutboxEventRecord.tenant_id) == uow.tenant_id, col(OutboxEventRecord.published_at).is_(None))
        .order_by(col(OutboxEventRecord.id))
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    table = OutboxEventRecord.__table__  # type: ignore[attr-defined]
    rows = await uow.session.execute(
        update(table)
        .where(table.c.tenant_id == uow.tenant_id, table.c.id.in_(batch))
        .values(published_at=uow.now, attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.type, table.c.payload, table.c.occurred_at)
    )
    return sorted(
        (
            DomainEvent(id=r.id, type=r.type, tenant_id=uow.tenant_id, payload=r.payload, occurred_at=r.occurred_at)
            for r in rows
        ),
        key=lambda event: event.id,
    )


async def _pending_records(uow: UnitOfWork, *, lock: bool) -> list[OutboxEventRecord]:
    query = (
        select(OutboxEventRecord)
        .where(
            col(OutboxEventRecord.tenant_id) == uow.tenant_id,
            col(OutboxEventRecord.published_at).is_(None),
        )
        .order_by(col(OutboxEventRecord.id))
        .limit(BATCH_SIZE)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list((await uow.session.execute(query)).scalars().all())


async def _mark_published(uow: UnitOfWork, ids: list[str]) -> None:
    await uow.session.execute(
        update(OutboxEventRecord)
        .where(
            col(OutboxEventRecord.tenant_id) == uow.tenant_id,
            col(OutboxEventRecord.id).in_(ids),
            col(OutboxEventRecord.published_at).is_(None),
        )
        .values(published_at=uow.now, attempts=col(OutboxEventRecord.attempts) + 1)
    )


async def handle_once(uow_factory: UnitOfWorkFactory, consumer: str, event: DomainEvent, handler: EventHandler) -> bool:
    """Run ``handler`` for ``event`` unless ``consumer`` already did; the marker commits with its effects."""
    caller = Caller(tenant_id=event.tenant_id, actor_id=consumer, actor_kind="system", source="system")
    async with uow_factory.begin(caller) as uow:
        marked = await uow.session.execute(
            insert_ignore(uow.session, ProcessedEventRecord)
            .values(tenant_id=event.tenant_id, consumer=consumer, event_id=event.id, processed_at=uow.now)
            .returning(ProcessedEventRecord.event_id)
        )
        if marked.first() is None:
            return False
        await handler(uow, event)
        return True


class InProcessBus:
    """Embedded-mode publisher: delivers straight to the subscribed consumers of this process."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory
        self._subscriptions: list[tuple[str, frozenset[str], EventHandler, EventFilter | None]] = []

    def subscribe(
        self, consumer: str, event_types: set[str], handler: EventHandler, *, wants: EventFilter | None = None
    ) -> None:
        """Register ``handler`` under a stable consumer name (the dedupe key); ``wants`` skips events it cannot use."""
        self._subscriptions.append((consumer, frozenset(event_types), handler, wants))

    async def publish(self, events: list[DomainEvent]) -> None:
        """Deliver each event to each interested consumer; a failure leaves the batch unpublished."""
        for event in events:
            for consumer, types, handler, wants in self._subscriptions:
                if event.type in types and (wants is None or wants(event)):
                    await handle_once(self._uow, consumer, event, handler)


def event_time(value: str) -> datetime:
    """Parse an ISO timestamp carried in a stream message."""
    return datetime.fromisoformat(value)

"""Outbox relay and consumers: committed events are delivered at least once and handled exactly once."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import select, text
from sqlmodel import col

from promptsales.domain_core.infrastructure.outbox import InProcessBus, OutboxRelay, handle_once, to_event
from promptsales.domain_core.infrastructure.redis_streams import (
    RedisStreamConsumer,
    RedisStreamPublisher,
    decode_event,
)
from promptsales.domain_core.infrastructure.tables import OutboxEventRecord, ProcessedEventRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.events import DomainEvent
from tests.integration.conftest import caller_for, create_organization, new_tenant

CREATED = "crm.organization_created"


class Recorder:
    """A handler that remembers what it handled; fails while ``failures`` is positive."""

    def __init__(self, failures: int = 0) -> None:
        self.handled: list[DomainEvent] = []
        self.failures = failures
        self._changed = asyncio.Condition()

    async def __call__(self, uow: UnitOfWork, event: DomainEvent) -> None:
        assert uow.tenant_id == event.tenant_id
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("handler failed")
        self.handled.append(event)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int) -> None:
        """Until ``count`` events were handled (by a background task); bounded at 10 s, then it fails."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.handled) >= count)

    @property
    def ids(self) -> list[str]:
        return [event.id for event in self.handled]


async def outbox_rows(uow_factory: UnitOfWorkFactory, tenant: str) -> list[OutboxEventRecord]:
    async with uow_factory.begin(caller_for(tenant), read_only=True) as uow:
        rows = await uow.session.execute(
            select(OutboxEventRecord)
            .where(col(OutboxEventRecord.tenant_id) == tenant)
            .order_by(col(OutboxEventRecord.id))
        )
        return list(rows.scalars().all())


async def processed_ids(uow_factory: UnitOfWorkFactory, tenant: str, consumer: str) -> list[str]:
    async with uow_factory.begin(caller_for(tenant), read_only=True) as uow:
        rows = await uow.session.execute(
            select(col(ProcessedEventRecord.event_id)).where(
                col(ProcessedEventRecord.tenant_id) == tenant, col(ProcessedEventRecord.consumer) == consumer
            )
        )
        return sorted(rows.scalars().all())


# ---------------------------------------------------------------------------------- SQLite, in-process


def in_process(uow_factory: UnitOfWorkFactory, recorder: Recorder) -> tuple[OutboxRelay, InProcessBus]:
    bus = InProcessBus(uow_factory)
    bus.subscribe("test-consumer", {CREATED}, recorder)
    return OutboxRelay(uow_factory, bus), bus


async def test_committed_events_are_delivered_once(sqlite_uow: UnitOfWorkFactory) -> None:
    tenant_a, tenant_b, recorder = new_tenant(), new_tenant(), Recorder()
    relay, _ = in_process(sqlite_uow, recorder)
    for tenant, name in ((tenant_a, "A1"), (tenant_a, "A2"), (tenant_b, "B1")):
        await create_organization(sqlite_uow, tenant, name)
    emitted = [row.id for tenant in (tenant_a, tenant_b) for row in await outbox_rows(sqlite_uow, tenant)]

    assert await relay.drain() == 3
    assert await relay.drain() == 0

    assert sorted(recorder.ids) == sorted(emitted)
    assert [event.payload["name"] for event in recorder.handled if event.tenant_id == tenant_a] == [
        "A1",
        "A2",
    ]
    for tenant in (tenant_a, tenant_b):
        assert all(row.published_at is not None and row.attempts == 1 for row in await outbox_rows(sqlite_uow, tenant))
    assert await processed_ids(sqlite_uow, tenant_a, "test-consumer") == sorted(
        row.id for row in await outbox_rows(sqlite_uow, tenant_a)
    )


async def test_events_of_a_rolled_back_unit_are_never_delivered(sqlite_uow: UnitOfWorkFactory) -> None:
    tenant, recorder = new_tenant(), Recorder()
    relay, _ = in_process(sqlite_uow, recorder)

    with pytest.raises(RuntimeError):
        await create_organization(sqlite_uow, tenant, "Doomed", fail=True)
    with pytest.raises(LookupError):
        async with sqlite_uow.begin(caller_for(tenant)) as uow:
            uow.emit(CREATED, {"name": "also doomed"})
            raise LookupError("the use case gave up")

    assert await outbox_rows(sqlite_uow, tenant) == []
    assert await relay.drain() == 0
    assert recorder.handled == []


async def test_a_failing_handler_leaves_the_event_pending_for_the_next_drain(
    sqlite_uow: UnitOfWorkFactory,
) -> None:
    tenant, recorder = new_tenant(), Recorder(failures=1)
    relay, _ = in_process(sqlite_uow, recorder)
    await create_organization(sqlite_uow, tenant, "Acme")

    with pytest.raises(RuntimeError, match="handler failed"):
        await relay.drain()
    [row] = await outbox_rows(sqlite_uow, tenant)
    assert row.published_at is None
    assert await processed_ids(sqlite_uow, tenant, "test-consumer") == []  # the marker rolled back too

    assert await relay.drain() == 1
    assert recorder.ids == [row.id]
    assert (await outbox_rows(sqlite_uow, tenant))[0].published_at is not None


async def test_redelivered_event_ids_are_skipped(sqlite_uow: UnitOfWorkFactory) -> None:
    tenant, recorder = new_tenant(), Recorder()
    relay, bus = in_process(sqlite_uow, recorder)
    await create_organization(sqlite_uow, tenant, "Acme")
    event = to_event((await outbox_rows(sqlite_uow, tenant))[0])

    await relay.drain()
    await bus.publish([event])  # e.g. the relay crashed after publishing but before marking the row
    assert await handle_once(sqlite_uow, "test-consumer", event, recorder) is False
    assert await handle_once(sqlite_uow, "another-consumer", event, recorder) is True

    assert recorder.ids == [event.id, event.id]  # once for each consumer, never twice for one
    assert await processed_ids(sqlite_uow, tenant, "test-consumer") == [event.id]


async def test_commit_nudges_the_running_relay(sqlite_uow: UnitOfWorkFactory) -> None:
    tenant, recorder = new_tenant(), Recorder()
    relay = OutboxRelay(sqlite_uow, _bus_with(sqlite_uow, recorder), poll_seconds=3600)
    app = UnitOfWorkFactory(sqlite_uow.engine, on_events=relay.nudge)
    await relay.start()
    try:
        await create_organization(app, tenant, "Acme")
        await recorder.wait_for(1)  # the hour-long poll never fires
    finally:
        await relay.stop()
    assert [event.payload["name"] for event in recorder.handled] == ["Acme"]


def _bus_with(uow_factory: UnitOfWorkFactory, recorder: Recorder) -> InProcessBus:
    bus = InProcessBus(uow_factory)
    bus.subscribe("test-consumer", {CREATED}, recorder)
    return bus


# ------------------------------------------------------------------------------ Postgres + Redis Streams


@pytest_asyncio.fixture(loop_scope="session")
async def pg_factory(fresh_pg: tuple[str, UnitOfWorkFactory]) -> AsyncIterator[UnitOfWorkFactory]:
    yield fresh_pg[1]


def consumer_for(
    redis_client: aioredis.Redis,
    uow_factory: UnitOfWorkFactory,
    stream: str,
    recorder: Recorder,
    **options: Any,
) -> RedisStreamConsumer:
    return RedisStreamConsumer(
        redis_client,
        uow_factory,
        consumer="test-consumer",
        event_types={CREATED},
        handler=recorder,
        stream=stream,
        **options,
    )


async def pending_count(redis_client: aioredis.Redis, stream: str, group: str) -> int:
    summary = await redis_client.xpending(stream, group)
    return int(summary["pending"])


class CrashAfterPublish:
    """Publishes, then raises once: the relay 'crashes' before marking the rows published."""

    def __init__(self, inner: RedisStreamPublisher) -> None:
        self.inner = inner
        self.crashes = 1

    async def publish(self, events: list[DomainEvent]) -> None:
        await self.inner.publish(events)
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("relay died before marking events published")


@pytest.mark.postgres
@pytest.mark.redis
async def test_relay_publishes_every_tenants_events_to_the_stream(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant_a, tenant_b = new_tenant(), new_tenant()
    for tenant, name in ((tenant_a, "A1"), (tenant_a, "A2"), (tenant_b, "B1")):
        await create_organization(pg_factory, tenant, name)
    relay = OutboxRelay(pg_factory, RedisStreamPublisher(redis_client, stream=stream_name))
    async with pg_factory.engine.connect() as connection:  # the app role, no tenant set
        visible = (await connection.execute(text("SELECT count(*) FROM outbox_events"))).scalar_one()
        pending = await connection.execute(text("SELECT promptsales_outbox_pending_tenants()"))
        assert (visible, sorted(row[0] for row in pending)) == (0, sorted([tenant_a, tenant_b]))

    assert await relay.drain() == 3  # tenants found through the SECURITY DEFINER lookup, rows read under RLS
    assert await relay.drain() == 0

    messages = await redis_client.xrange(stream_name)
    events = [decode_event({k.decode(): v.decode() for k, v in fields.items()}) for _, fields in messages]
    expected = [to_event(row) for tenant in (tenant_a, tenant_b) for row in await outbox_rows(pg_factory, tenant)]
    assert sorted(events, key=lambda e: e.id) == sorted(expected, key=lambda e: e.id)
    for tenant in (tenant_a, tenant_b):
        assert all(row.published_at is not None for row in await outbox_rows(pg_factory, tenant))

    recorder = Recorder()
    consumer = consumer_for(redis_client, pg_factory, stream_name, recorder)
    assert await consumer.process_available() == 3
    assert await consumer.process_available() == 0
    assert sorted(recorder.ids) == sorted(event.id for event in expected)
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0
    assert await processed_ids(pg_factory, tenant_b, "test-consumer") == [
        event.id for event in expected if event.tenant_id == tenant_b
    ]


@pytest.mark.postgres
@pytest.mark.redis
async def test_events_published_twice_are_handled_once(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    for name in ("A1", "A2"):
        await create_organization(pg_factory, tenant, name)
    relay = OutboxRelay(pg_factory, CrashAfterPublish(RedisStreamPublisher(redis_client, stream=stream_name)))

    with pytest.raises(ConnectionError):
        await relay.drain()
    assert all(row.published_at is None for row in await outbox_rows(pg_factory, tenant))
    assert await relay.drain() == 2
    assert await redis_client.xlen(stream_name) == 4  # every event is in the stream twice

    recorder = Recorder()
    consumer = consumer_for(redis_client, pg_factory, stream_name, recorder)
    assert await consumer.process_available() == 4  # all acknowledged...
    assert sorted(recorder.ids) == sorted(row.id for row in await outbox_rows(pg_factory, tenant))  # ...once each
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0


@pytest.mark.postgres
@pytest.mark.redis
async def test_failed_message_stays_pending_and_another_worker_reclaims_it(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    await create_organization(pg_factory, tenant, "Acme")
    await OutboxRelay(pg_factory, RedisStreamPublisher(redis_client, stream=stream_name)).drain()
    [row] = await outbox_rows(pg_factory, tenant)

    crashing, healthy = Recorder(failures=1_000), Recorder()
    worker_1 = consumer_for(redis_client, pg_factory, stream_name, crashing, worker_name="w1", claim_idle_ms=0)
    worker_2 = consumer_for(redis_client, pg_factory, stream_name, healthy, worker_name="w2", claim_idle_ms=0)

    assert await worker_1.process_available() == 0
    pending = await redis_client.xpending_range(stream_name, "test-consumer", "-", "+", 10)
    assert [entry["consumer"] for entry in pending] == [b"w1"]
    assert await processed_ids(pg_factory, tenant, "test-consumer") == []

    assert await worker_2.process_available() == 1  # XAUTOCLAIM moved it to w2, which handled and acked it
    assert healthy.ids == [row.id]
    assert crashing.handled == []
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0
    assert await worker_1.process_available() == 0
    assert await processed_ids(pg_factory, tenant, "test-consumer") == [row.id]


@pytest.mark.postgres
@pytest.mark.redis
async def test_messages_younger_than_claim_idle_are_not_reclaimed(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    await create_organization(pg_factory, tenant, "Acme")
    await OutboxRelay(pg_factory, RedisStreamPublisher(redis_client, stream=stream_name)).drain()

    worker_1 = consumer_for(redis_client, pg_factory, stream_name, Recorder(failures=1), worker_name="w1")
    healthy = Recorder()
    worker_2 = consumer_for(redis_client, pg_factory, stream_name, healthy, worker_name="w2")  # 30 s default

    assert await worker_1.process_available() == 0
    assert await worker_2.process_available() == 0  # w1 may still be working on it: leave it alone
    assert healthy.handled == []
    assert await pending_count(redis_client, stream_name, "test-consumer") == 1


@pytest.mark.postgres
@pytest.mark.redis
async def test_consumer_group_on_a_fresh_stream(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    recorder = Recorder()
    consumer = consumer_for(redis_client, pg_factory, stream_name, recorder)
    assert await redis_client.exists(stream_name) == 0

    assert await consumer.process_available() == 0
    groups = await redis_client.xinfo_groups(stream_name)
    assert [group["name"] for group in groups] == [b"test-consumer"]
    await consumer.ensure_group()  # an existing group is kept

    tenant = new_tenant()
    publisher = RedisStreamPublisher(redis_client, stream=stream_name)
    await create_organization(pg_factory, tenant, "Acme")
    await OutboxRelay(pg_factory, publisher).drain()
    other = DomainEvent(type="crm.something_else", tenant_id=tenant, payload={})
    await publisher.publish([other])
    await redis_client.xadd(stream_name, {"garbage": "1"})

    assert await consumer.process_available() == 3  # handled, not of interest, malformed: all acknowledged
    assert [event.payload["name"] for event in recorder.handled] == ["Acme"]
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0

    await redis_client.delete(stream_name)  # the stream and its group vanish (e.g. Redis restarted empty)
    assert await consumer.process_available() == 0
    await create_organization(pg_factory, tenant, "Globex")
    await OutboxRelay(pg_factory, publisher).drain()
    assert await consumer.process_available() == 1
    assert [event.payload["name"] for event in recorder.handled] == ["Acme", "Globex"]


@pytest.mark.postgres
@pytest.mark.redis
async def test_background_consumer_reclaims_then_reads_new_messages(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    relay = OutboxRelay(pg_factory, RedisStreamPublisher(redis_client, stream=stream_name))
    await create_organization(pg_factory, tenant, "Acme")
    await relay.drain()
    crashed = consumer_for(redis_client, pg_factory, stream_name, Recorder(failures=1), worker_name="w1")
    assert await crashed.process_available() == 0  # "Acme" is now pending on w1

    recorder = Recorder()
    consumer = consumer_for(redis_client, pg_factory, stream_name, recorder, worker_name="w2", claim_idle_ms=0)
    await consumer.start()
    try:
        await recorder.wait_for(1)  # reclaimed from w1 by the loop's XAUTOCLAIM
        await create_organization(pg_factory, tenant, "Globex")
        await relay.drain()
        await recorder.wait_for(2)  # read by the loop's blocking XREADGROUP
    finally:
        await consumer.stop()
    assert [event.payload["name"] for event in recorder.handled] == ["Acme", "Globex"]

    # stop() may cancel between the handler's commit and XACK: what is left pending is reclaimed and deduped.
    sweeper = consumer_for(redis_client, pg_factory, stream_name, recorder, worker_name="w3", claim_idle_ms=0)
    await sweeper.process_available()
    assert [event.payload["name"] for event in recorder.handled] == ["Acme", "Globex"]
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0


@pytest.mark.postgres
@pytest.mark.redis
async def test_process_available_stops_at_max_messages(
    pg_factory: UnitOfWorkFactory, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    for i in range(5):
        await create_organization(pg_factory, tenant, f"Org {i}")
    await OutboxRelay(pg_factory, RedisStreamPublisher(redis_client, stream=stream_name)).drain()
    recorder = Recorder()
    consumer = consumer_for(redis_client, pg_factory, stream_name, recorder)

    assert await consumer.process_available(max_messages=2) == 2
    assert await consumer.process_available(max_messages=2) == 2
    assert await consumer.process_available(max_messages=2) == 1
    assert [event.payload["name"] for event in recorder.handled] == [f"Org {i}" for i in range(5)]


@pytest.mark.postgres
async def test_unreachable_stream_leaves_events_pending(pg_factory: UnitOfWorkFactory) -> None:
    tenant = new_tenant()
    await create_organization(pg_factory, tenant, "Acme")
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(aioredis.ConnectionError):
            await OutboxRelay(pg_factory, RedisStreamPublisher(dead, stream="promptsales:unreachable")).drain()
    finally:
        await dead.aclose()
    assert all(row.published_at is None for row in await outbox_rows(pg_factory, tenant))

"""A consumer's event filter: events it cannot use are skipped without opening a unit or leaving a marker."""

import pytest
import redis.asyncio as aioredis

from promptsales.domain_core.campaigns.service.touches import names_a_campaign
from promptsales.domain_core.infrastructure.outbox import InProcessBus, OutboxRelay
from promptsales.domain_core.infrastructure.redis_streams import RedisStreamPublisher
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.events import DomainEvent
from tests.integration.conftest import create_organization, new_tenant
from tests.integration.test_outbox_relay import (
    CREATED,
    Recorder,
    consumer_for,
    outbox_rows,
    pending_count,
    processed_ids,
)


def not_skipped(event: DomainEvent) -> bool:
    return event.payload.get("name") != "Skip"


async def test_the_bus_skips_events_a_consumer_does_not_want(sqlite_uow: UnitOfWorkFactory) -> None:
    tenant, recorder = new_tenant(), Recorder()
    bus = InProcessBus(sqlite_uow)
    bus.subscribe("test-consumer", {CREATED}, recorder, wants=not_skipped)
    for name in ("Keep", "Skip"):
        await create_organization(sqlite_uow, tenant, name)

    assert await OutboxRelay(sqlite_uow, bus).drain() == 2
    rows = await outbox_rows(sqlite_uow, tenant)
    kept = [row.id for row in rows if row.payload["name"] == "Keep"]
    assert recorder.ids == kept
    assert await processed_ids(sqlite_uow, tenant, "test-consumer") == kept  # no marker for the skipped one
    assert all(row.published_at is not None for row in rows)


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_stream_consumer_acknowledges_unwanted_events_without_handling_them(
    fresh_pg: tuple[str, UnitOfWorkFactory], redis_client: aioredis.Redis, stream_name: str
) -> None:
    uow_factory, tenant, recorder = fresh_pg[1], new_tenant(), Recorder()
    for name in ("Keep", "Skip"):
        await create_organization(uow_factory, tenant, name)
    await OutboxRelay(uow_factory, RedisStreamPublisher(redis_client, stream=stream_name)).drain()

    consumer = consumer_for(redis_client, uow_factory, stream_name, recorder, wants=not_skipped)
    assert await consumer.process_available() == 2  # both acknowledged
    kept = [row.id for row in await outbox_rows(uow_factory, tenant) if row.payload["name"] == "Keep"]
    assert recorder.ids == kept
    assert await processed_ids(uow_factory, tenant, "test-consumer") == kept
    assert await pending_count(redis_client, stream_name, "test-consumer") == 0


def captured(utm: object) -> DomainEvent:
    return DomainEvent(
        type="crm.lead_captured", tenant_id="t", payload={"utm": utm, "lead_id": "ld", "contact_id": "ct"}
    )


def test_only_captures_whose_utm_names_a_campaign_reach_the_campaign_touch_counter() -> None:
    assert not names_a_campaign(captured({"source": "google", "medium": "cpc", "campaign": "bench"}))
    assert not names_a_campaign(captured({}))
    assert not names_a_campaign(captured(None))
    assert not names_a_campaign(captured("not a mapping"))
    assert names_a_campaign(captured({"source": "google", "medium": "cpc", "campaign": "cp_01J9ZX4K7M2Q8R"}))

"""With a Redis URL set, the running suite relays committed CRM events to Redis Streams."""

import asyncio
import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from promptsales.domain_core.crm.commands import CaptureLead
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import caller_for, new_tenant

pytestmark = pytest.mark.redis


async def test_captured_lead_reaches_the_event_stream(
    tmp_path: Path, redis_server: str, redis_client: aioredis.Redis, stream_name: str
) -> None:
    tenant = new_tenant()
    runtime = Runtime(Settings(data_dir=tmp_path, tenant=tenant, redis_url=redis_server, event_stream=stream_name))
    await runtime.start()
    try:
        result = await runtime.crm.capture_lead(
            caller_for(tenant),
            CaptureLead(
                email="stream@acme.example", first_name="Ana", source_channel="web_form", campaign_ref="spring"
            ),
        )
        # The relay is nudged by the commit; wait (bounded) until it has published.
        entries: list[tuple[bytes, dict[bytes, bytes]]] = []
        for _ in range(100):
            entries = await redis_client.xrange(stream_name)
            if entries:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
    events = [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
    captured = [e for e in events if e["type"] == "crm.lead_captured"]
    assert len(captured) == 1
    assert captured[0]["tenant_id"] == tenant
    payload = json.loads(captured[0]["payload"])
    assert payload["lead_id"] == result.lead.id and payload["campaign_ref"] == "spring"

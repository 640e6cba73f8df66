"""The ads surface on PostgreSQL (row-level security forced, the app role): a retried activation never creates twice.

Campaigns activates through ``IntegrationsFacade.ads`` with one idempotency key per platform object; 20 concurrent
calls with the same key (an agent host retrying, two replicas racing) must make ONE campaign on the platform, give
every caller that same campaign, and leave one audit entry.
"""

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.integrations.dto import CampaignSpec
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_connect, pg_url

pytestmark = pytest.mark.postgres

CALLS = 20


def settings(database: str, data_dir: Path, tenant: str) -> Settings:
    return Settings(
        database_url=pg_url(database),
        data_dir=data_dir,
        tenant=tenant,
        actor="activator",
        default_plan="enterprise",
        rate_limits_enabled=False,
        entitlement_cache_seconds=0,
        redis_url=None,
        database_pool_size=30,
    )


@pytest.mark.parametrize("platform", ["google_ads", "tiktok_ads", "linkedin_ads"])
async def test_twenty_concurrent_creates_with_one_key_make_one_campaign(
    pg_database: str, tmp_path: Path, platform: str
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    runtime = Runtime(settings(pg_database, tmp_path, tenant))
    async with Client(build_gateway(runtime)) as client:
        connected = await client.call_tool_mcp("integrations_connect", {"platform": platform})
        assert not connected.is_error and isinstance(connected.structured_content, dict)
        account = connected.structured_content["account_id"]
        ads = runtime.integrations.ads(runtime.caller(None), platform)
        spec = CampaignSpec(name="Race", objective="traffic", daily_budget=Decimal("60.00"))
        made = await asyncio.gather(
            *(ads.create_campaign(account, spec, idempotency_key="activation-7:campaign") for _ in range(CALLS)),
            return_exceptions=True,
        )
        simulator: Any = runtime.integrations.sandbox.simulator(platform)
        stored = (
            simulator.entities(account, "campaign")
            if platform == "google_ads"
            else simulator.objects(account, "adCampaignGroups" if platform == "linkedin_ads" else "campaign")
        )
    failures = [m for m in made if isinstance(m, BaseException)]
    assert failures == []
    assert len({m.id for m in made if not isinstance(m, BaseException)}) == 1
    assert len(stored) == 1
    with owner_connect(pg_database) as connection:
        row = connection.execute(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'integrations.ads.create_campaign'",
            (tenant,),
        ).fetchone()
    assert row is not None and row[0] == 1

"""Concurrent content writers on Postgres (issue 8 A2): many agents setting the AI provider or the same brand kit
at once all succeed, with one effect (one settings row, one kit per name, one default kit)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fastmcp import Client
from sqlalchemy import func, select

from promptsales.domain_core.content.tables import AiSettingsRecord, BrandKitRecord
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import pg_url

pytestmark = pytest.mark.postgres
CALLS = 30


@pytest_asyncio.fixture
async def tenant_client(pg_database: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Client, str]]:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    runtime = Runtime(
        Settings(
            database_url=pg_url(pg_database),
            data_dir=tmp_path,
            tenant=tenant,
            default_plan="enterprise",
            rate_limits_enabled=False,
            database_pool_size=CALLS,
        )
    )
    async with Client(build_gateway(runtime)) as client:
        yield runtime, client, tenant


async def rows(runtime: Runtime, tenant: str, table: type) -> list[object]:
    async def work(uow: UnitOfWork) -> list[object]:
        return list((await uow.session.execute(select(table))).scalars())

    return await runtime.uow.read(Caller(tenant_id=tenant, actor_id="check"), work)


async def calls(client: Client, tool: str, arguments: list[dict[str, object]]) -> list[str]:
    """The error texts of concurrent calls (empty: every call succeeded)."""
    results = await asyncio.gather(*(client.call_tool_mcp(tool, args) for args in arguments))
    return [r.content[0].text for r in results if r.is_error]


async def test_concurrent_ai_provider_choices_on_a_fresh_tenant_all_succeed(
    tenant_client: tuple[Runtime, Client, str],
) -> None:
    runtime, client, tenant = tenant_client
    models = [f"gpt-4.1-mini-{n}" for n in range(CALLS)]
    failures = await calls(
        client,
        "content_set_ai_provider",
        [{"text_provider": "openai", "text_model": m, "api_key": f"sk-test-{n:04d}"} for n, m in enumerate(models)],
    )
    assert failures == []
    (settings,) = await rows(runtime, tenant, AiSettingsRecord)
    assert isinstance(settings, AiSettingsRecord) and settings.text_model in models
    shown = await client.call_tool_mcp("content_get_ai_settings", {})
    assert (shown.structured_content or {})["api_key_stored"] is True


async def test_concurrent_writes_of_one_brand_kit_make_one_kit(tenant_client: tuple[Runtime, Client, str]) -> None:
    runtime, client, tenant = tenant_client
    failures = await calls(
        client,
        "content_set_brand_kit",
        [{"name": "Acme", "voice": f"Take {n}.", "colors": ["#1F4FFF"]} for n in range(CALLS)],
    )
    assert failures == []
    (kit,) = await rows(runtime, tenant, BrandKitRecord)
    assert isinstance(kit, BrandKitRecord) and kit.version == CALLS and kit.is_default


async def test_concurrent_new_brand_kits_leave_exactly_one_default(tenant_client: tuple[Runtime, Client, str]) -> None:
    runtime, client, tenant = tenant_client
    failures = await calls(client, "content_set_brand_kit", [{"name": f"Line {n}"} for n in range(20)])
    assert failures == []
    kits = [kit for kit in await rows(runtime, tenant, BrandKitRecord) if isinstance(kit, BrandKitRecord)]
    assert len(kits) == 20 and sum(kit.is_default for kit in kits) == 1

    async def count(uow: UnitOfWork) -> int:
        query = select(func.count()).select_from(BrandKitRecord).where(BrandKitRecord.is_default)
        return int((await uow.session.execute(query)).scalar_one())

    assert await runtime.uow.read(Caller(tenant_id=tenant, actor_id="check"), count) == 1

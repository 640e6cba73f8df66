"""N concurrent calls at a quota's limit on Postgres: exactly the limit succeed, the rest are refused cleanly."""

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from fastmcp import Client
from sqlalchemy import func, select

from promptsales.domain_core.business.tables import UsageRecord
from promptsales.domain_core.crm.tables import ContactRecord
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import pg_url

pytestmark = pytest.mark.postgres
LIMIT = 7
CALLS = 30


async def test_concurrent_creates_at_the_contacts_limit_let_exactly_the_limit_through(
    pg_database: str, tmp_path: Path
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps({"plans": [{"id": "free", "quotas": {"contacts": LIMIT}}]}))
    runtime = Runtime(
        Settings(
            database_url=pg_url(pg_database),
            data_dir=tmp_path,
            tenant=tenant,
            default_plan="free",
            plans_file=plans,
            rate_limits_enabled=False,
            database_pool_size=CALLS,
        )
    )
    async with Client(build_gateway(runtime)) as client:
        results = await asyncio.gather(
            *(client.call_tool_mcp("crm_create_contact", {"email": f"racer{n}@example.com"}) for n in range(CALLS))
        )
        refused = [r.content[0].text for r in results if r.is_error]
        assert len(results) - len(refused) == LIMIT
        assert all(f"Quota 'contacts' of the Free plan is used up ({LIMIT} of {LIMIT} used)" in t for t in refused)

        async def counts(uow: UnitOfWork) -> tuple[int, int]:
            contacts = await uow.session.execute(
                select(func.count()).select_from(ContactRecord).where(ContactRecord.tenant_id == tenant)
            )
            used = await uow.session.execute(
                select(UsageRecord.used).where(UsageRecord.tenant_id == tenant, UsageRecord.quota == "contacts")
            )
            return int(contacts.scalar_one()), int(used.scalar_one())

        assert await runtime.uow.read(Caller(tenant_id=tenant, actor_id="check"), counts) == (LIMIT, LIMIT)

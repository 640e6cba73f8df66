"""Row-level security on Postgres: the database itself confines every query to the transaction's tenant."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.ids import new_id
from tests.integration.conftest import APP_ROLE, caller_for, create_organization, new_tenant, pg_url

pytestmark = pytest.mark.postgres


@pytest_asyncio.fixture(loop_scope="session")
async def single_connection_engine(pg_database: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An app engine whose pool holds one connection, so consecutive uses share one server session."""
    engine = create_engine(Settings(database_url=pg_url(pg_database), data_dir=tmp_path, database_pool_size=1))
    yield engine
    await engine.dispose()


async def seed(uow_factory: UnitOfWorkFactory) -> tuple[str, str, list[str], list[str]]:
    tenant_a, tenant_b = new_tenant(), new_tenant()
    a_ids = [(await create_organization(uow_factory, tenant_a, f"A{i}")).id for i in range(3)]
    b_ids = [(await create_organization(uow_factory, tenant_b, f"B{i}")).id for i in range(2)]
    return tenant_a, tenant_b, a_ids, b_ids


async def org_names(uow_factory: UnitOfWorkFactory, tenant: str) -> dict[str, str | None]:
    async with uow_factory.begin(caller_for(tenant), read_only=True) as uow:
        rows = (await uow.session.execute(select(OrganizationRecord))).scalars().all()
        return {row.id: row.industry for row in rows}


async def test_connection_without_tenant_setting_sees_no_rows(
    pg_uow: UnitOfWorkFactory, single_connection_engine: AsyncEngine
) -> None:
    await seed(pg_uow)
    single = UnitOfWorkFactory(single_connection_engine)
    tenant = new_tenant()
    await create_organization(single, tenant, "Reused Connection Ltd")
    async with single.begin(caller_for(tenant), read_only=True) as uow:
        unit_pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        in_unit = await uow.session.execute(text("SELECT count(*) FROM crm_organizations"))
        assert in_unit.scalar_one() == 1

    for engine in (pg_uow.engine, single_connection_engine):
        async with engine.connect() as connection:
            if engine is single_connection_engine:  # the very server session the unit of work used
                pid = await connection.execute(text("SELECT pg_backend_pid()"))
                assert pid.scalar_one() == unit_pid
            assert (await connection.execute(text("SELECT current_user"))).scalar_one() == APP_ROLE
            setting = await connection.execute(text("SELECT current_setting('app.tenant_id', true)"))
            assert setting.scalar_one() in (None, "")  # SET LOCAL did not outlive its transaction
            count = await connection.execute(text("SELECT count(*) FROM crm_organizations"))
            assert count.scalar_one() == 0


async def test_unfiltered_select_returns_only_the_transactions_tenant(pg_uow: UnitOfWorkFactory) -> None:
    tenant_a, tenant_b, a_ids, b_ids = await seed(pg_uow)

    async with pg_uow.begin(caller_for(tenant_a), read_only=True) as uow:
        rows = (await uow.session.execute(select(OrganizationRecord))).scalars().all()
        raw_count = (await uow.session.execute(text("SELECT count(*) FROM crm_organizations"))).scalar_one()
        by_id = await uow.session.execute(
            select(func.count()).select_from(OrganizationRecord).where(col(OrganizationRecord.id).in_(b_ids))
        )

    assert sorted(row.id for row in rows) == sorted(a_ids)
    assert {row.tenant_id for row in rows} == {tenant_a}
    assert raw_count == len(a_ids)
    assert by_id.scalar_one() == 0  # even B's ids are invisible to A
    assert sorted(await org_names(pg_uow, tenant_b)) == sorted(b_ids)


async def test_writing_another_tenants_row_is_rejected(pg_uow: UnitOfWorkFactory) -> None:
    tenant_a, tenant_b, a_ids, b_ids = await seed(pg_uow)
    now = utc_now()

    with pytest.raises(ProgrammingError, match="row-level security"):
        async with pg_uow.begin(caller_for(tenant_a)) as uow:
            uow.session.add(
                OrganizationRecord(
                    id=new_id("org"), tenant_id=tenant_b, name="Smuggled", created_at=now, updated_at=now
                )
            )
            await uow.session.flush()

    with pytest.raises(ProgrammingError, match="row-level security"):
        async with pg_uow.begin(caller_for(tenant_a)) as uow:
            await uow.session.execute(
                update(OrganizationRecord).where(col(OrganizationRecord.id) == a_ids[0]).values(tenant_id=tenant_b)
            )

    assert sorted(await org_names(pg_uow, tenant_a)) == sorted(a_ids)
    assert sorted(await org_names(pg_uow, tenant_b)) == sorted(b_ids)


async def test_unfiltered_update_and_delete_touch_only_the_transactions_tenant(
    pg_uow: UnitOfWorkFactory,
) -> None:
    tenant_a, tenant_b, a_ids, b_ids = await seed(pg_uow)

    async with pg_uow.begin(caller_for(tenant_a)) as uow:
        updated = await uow.session.execute(update(OrganizationRecord).values(industry="rewritten"))
        assert updated.rowcount == len(a_ids)  # type: ignore[attr-defined]

    assert set((await org_names(pg_uow, tenant_a)).values()) == {"rewritten"}
    assert set((await org_names(pg_uow, tenant_b)).values()) == {None}

    async with pg_uow.begin(caller_for(tenant_a)) as uow:
        deleted = await uow.session.execute(delete(OrganizationRecord))
        assert deleted.rowcount == len(a_ids)  # type: ignore[attr-defined]

    assert await org_names(pg_uow, tenant_a) == {}
    assert sorted(await org_names(pg_uow, tenant_b)) == sorted(b_ids)

"""A lost Postgres connection: units that committed nothing run again; a COMMIT in doubt is reported, not repeated."""

from typing import Any

import pytest
from sqlalchemy import event, text

from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.errors import Unavailable
from promptsales.domain_core.shared.ids import new_id
from tests.integration.conftest import caller_for, new_tenant, owner_connect

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="session")]


def terminate(database: str, pid: int | None = None) -> None:
    """Kill one backend (``pid``), or every other backend of ``database`` (as the server would on a restart)."""
    with owner_connect(database) as owner:
        if pid is not None:
            owner.execute("SELECT pg_terminate_backend(%s)", (pid,))
            return
        owner.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )


def organization(uow: UnitOfWork, name: str) -> None:
    uow.session.add(
        OrganizationRecord(id=new_id("org"), tenant_id=uow.tenant_id, name=name, created_at=uow.now, updated_at=uow.now)
    )


async def names(uow_factory: UnitOfWorkFactory, tenant: str) -> list[str]:
    async def work(uow: UnitOfWork) -> list[str]:
        rows = await uow.session.execute(text("SELECT name FROM crm_organizations WHERE tenant_id = :t"), {"t": tenant})
        return sorted(row[0] for row in rows)

    return await uow_factory.read(caller_for(tenant), work)


async def test_a_unit_whose_connection_dies_before_commit_runs_again(fresh_pg: tuple[str, UnitOfWorkFactory]) -> None:
    database, uow_factory = fresh_pg
    tenant, attempts = new_tenant(), []

    async def work(uow: UnitOfWork) -> None:
        attempts.append(1)
        organization(uow, "Acme")
        if len(attempts) == 1:  # the server goes away in the middle of the first attempt
            pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            terminate(database, pid)
        await uow.session.flush()

    await uow_factory.write(caller_for(tenant), work)
    assert len(attempts) == 2
    assert await names(uow_factory, tenant) == ["Acme"]


async def test_pooled_connections_killed_by_a_restart_are_replaced(fresh_pg: tuple[str, UnitOfWorkFactory]) -> None:
    database, uow_factory = fresh_pg
    tenant = new_tenant()
    assert await names(uow_factory, tenant) == []  # leaves a connection in the pool
    terminate(database)

    async def work(uow: UnitOfWork) -> None:
        organization(uow, "Globex")

    await uow_factory.write(caller_for(tenant), work)  # BEGIN on the dead pooled connection fails, then a new one
    assert await names(uow_factory, tenant) == ["Globex"]


async def test_a_connection_lost_during_commit_is_reported_and_not_run_again(
    fresh_pg: tuple[str, UnitOfWorkFactory],
) -> None:
    database, uow_factory = fresh_pg
    tenant, attempts = new_tenant(), []

    async def work(uow: UnitOfWork) -> None:
        attempts.append(1)
        organization(uow, "Initech")
        await uow.session.flush()
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        def kill_before_commit(_session: Any) -> None:
            terminate(database, pid)

        event.listen(uow.session.sync_session, "before_commit", kill_before_commit, once=True)

    with pytest.raises(Unavailable, match="may or may not have been saved"):
        await uow_factory.write(caller_for(tenant), work)
    assert len(attempts) == 1
    assert await names(uow_factory, tenant) == []  # here the COMMIT never arrived; the caller could not know that


async def test_an_unreachable_database_is_unavailable_after_the_reconnect_window() -> None:
    engine = create_engine(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none"))
    uow_factory = UnitOfWorkFactory(engine, reconnect_window_s=0.3)

    async def work(uow: UnitOfWork) -> None:
        organization(uow, "Nowhere")

    try:
        with pytest.raises(Unavailable, match="nothing was changed"):
            await uow_factory.write(caller_for(new_tenant()), work)
    finally:
        await engine.dispose()

"""Empty databases migrate to head; on Postgres every tenant table is guarded by forced row-level security."""

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import SQLModel

from promptsales.domain_core.infrastructure.schema import (
    alembic_config,
    current_revision,
    import_all_tables,
    sync_url,
    upgrade_to_head,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from tests.integration.conftest import (
    APP_ROLE,
    PostgresServer,
    caller_for,
    create_organization,
    new_tenant,
    owner_connect,
    pg_url,
)


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def model_tables() -> set[str]:
    import_all_tables()
    return set(SQLModel.metadata.tables)


def database_tables(url: str) -> set[str]:
    engine = create_sync_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_empty_sqlite_file_migrates_to_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert current_revision(url) is None  # nothing there yet

    upgrade_to_head(url)

    assert current_revision(url) == head_revision(url)
    assert model_tables() <= database_tables(url)
    upgrade_to_head(url)  # a second run is a no-op
    assert current_revision(url) == head_revision(url)


@pytest.mark.postgres
def test_empty_postgres_database_migrates_to_head(postgres_server: PostgresServer) -> None:
    database = postgres_server.create_database(migrate=False)
    url = pg_url(database)
    assert current_revision(url) is None

    upgrade_to_head(url)  # the app role already exists cluster-wide from the run's first database

    assert current_revision(url) == head_revision(url)
    assert model_tables() <= database_tables(url)
    upgrade_to_head(url)
    assert current_revision(url) == head_revision(url)


@pytest.mark.postgres
def test_every_tenant_table_has_forced_rls_and_a_tenant_policy(pg_database: str) -> None:
    with owner_connect(pg_database) as owner:
        tenant_tables = {
            row[0]
            for row in owner.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
            )
        }
        security = {
            row[0]: (row[1], row[2])
            for row in owner.execute(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        }
        policies = {
            row[0]: (row[1], row[2], row[3])
            for row in owner.execute(
                "SELECT tablename, cmd, qual, with_check FROM pg_policies "
                "WHERE schemaname = 'public' AND policyname = 'tenant_isolation'"
            )
        }

    assert {"crm_organizations", "audit_log", "idempotency_records", "outbox_events"} <= tenant_tables
    assert tenant_tables == {t for t in model_tables() if "tenant_id" in SQLModel.metadata.tables[t].c}
    unguarded = sorted(t for t in tenant_tables if security[t] != (True, True))
    assert unguarded == [], f"tables without ENABLE + FORCE ROW LEVEL SECURITY: {unguarded}"
    missing = sorted(tenant_tables - set(policies))
    assert missing == [], f"tables without a tenant_isolation policy: {missing}"
    for table in tenant_tables:
        command, using, with_check = policies[table]
        assert command == "ALL", table
        assert "current_setting('app.tenant_id'" in using, table
        assert with_check is not None and "current_setting('app.tenant_id'" in with_check, table


@pytest.mark.postgres
def test_app_role_is_unprivileged_and_owns_nothing(pg_database: str) -> None:
    with owner_connect(pg_database) as owner:
        role = owner.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s",
            (APP_ROLE,),
        ).fetchone()
        owned = owner.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", (APP_ROLE,)
        ).fetchall()
        audit_grants = {
            privilege: owner.execute(
                "SELECT has_table_privilege(%s, 'audit_log', %s)", (APP_ROLE, privilege)
            ).fetchone()[0]  # type: ignore[index]
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }
        crm_update = owner.execute(
            "SELECT has_table_privilege(%s, 'crm_organizations', 'UPDATE')", (APP_ROLE,)
        ).fetchone()

    assert role == (False, False, False, False)
    assert owned == []
    assert audit_grants == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }
    assert crm_update == (True,)


@pytest.mark.postgres
async def test_app_engine_runs_as_the_app_role_and_cannot_rewrite_audit(pg_uow: UnitOfWorkFactory) -> None:
    tenant = new_tenant()
    await create_organization(pg_uow, tenant, "Audited Ltd")

    async with pg_uow.engine.connect() as connection:
        assert (await connection.execute(text("SELECT current_user"))).scalar_one() == APP_ROLE

    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            async with pg_uow.begin(caller_for(tenant)) as uow:
                await uow.session.execute(text(statement))

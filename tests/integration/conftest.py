"""Integration fixtures: a throwaway Postgres database per run, migrated SQLite files, and Redis streams.

Postgres and Redis are expected on 127.0.0.1 (override with ``PROMPTSALES_TEST_PG_ADMIN_URL`` and
``PROMPTSALES_TEST_REDIS_URL``). When a service is unreachable its tests are skipped with the reason, except
under ``CI=true`` where they fail: CI must never pass by silently skipping the real backends.
"""

import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import pytest_asyncio
import redis
import redis.asyncio as aioredis
from psycopg import sql
from pydantic import BaseModel
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.tables import (
    AuditEntryRecord,
    IdempotencyRecord,
    OutboxEventRecord,
)
from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.ids import new_id

PG_ADMIN_URL = os.environ.get("PROMPTSALES_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PROMPTSALES_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_ROLE = "promptsales_app"


def _unavailable(service: str, error: BaseException) -> None:
    reason = f"{service} is not reachable ({type(error).__name__}: {error})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(f"{reason}; start it or set CI=true to make this a failure")


# --------------------------------------------------------------------------------------------- Postgres


def pg_url(database: str, *, driver: str = "postgresql+psycopg") -> str:
    """URL of ``database`` on the admin server (as the owner/superuser)."""
    return make_url(PG_ADMIN_URL).set(drivername=driver, database=database).render_as_string(False)


def owner_connect(database: str) -> psycopg.Connection[Any]:
    """A sync autocommit connection as the owner (superuser: bypasses RLS), for setup and tampering."""
    return psycopg.connect(pg_url(database, driver="postgresql"), autocommit=True)


class PostgresServer:
    """Creates uniquely named databases and drops every one of them at the end of the run."""

    def __init__(self) -> None:
        self.prefix = f"promptsales_test_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []

    def create_database(self, *, migrate: bool = True) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        if migrate:
            upgrade_to_head(pg_url(name))
        return name

    def drop_all(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            for name in self.created:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute("SELECT 1")
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    server = PostgresServer()
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_database(postgres_server: PostgresServer) -> str:
    """The run's shared, migrated database; tests isolate themselves with unique tenant ids."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def pg_settings(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=pg_url(pg_database),
        data_dir=tmp_path_factory.mktemp("pg-data"),
        database_pool_size=25,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def pg_engine(pg_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def pg_uow(pg_engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(pg_engine)


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_pg(postgres_server: PostgresServer, tmp_path: Path) -> AsyncIterator[tuple[str, UnitOfWorkFactory]]:
    """A database of its own (for tests that look at every tenant's rows, like the outbox relay)."""
    name = postgres_server.create_database()
    engine = create_engine(Settings(database_url=pg_url(name), data_dir=tmp_path, database_pool_size=5))
    yield name, UnitOfWorkFactory(engine)
    await engine.dispose()


# ----------------------------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test that needs a database."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as connection:  # fold the WAL into the main file so a plain copy is complete
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def sqlite_path(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "promptsales.db"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_uow(sqlite_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{sqlite_path}", data_dir=sqlite_path.parent))
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@dataclass
class Backend:
    """A migrated database reachable through the app engine, plus owner access for tampering."""

    name: str
    uow: UnitOfWorkFactory
    owner_execute: Callable[[str, tuple[Any, ...]], None]  # "?" placeholders; runs as owner, outside RLS


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "postgres":
        database: str = request.getfixturevalue("pg_database")
        uow: UnitOfWorkFactory = request.getfixturevalue("pg_uow")

        def pg_execute(statement: str, params: tuple[Any, ...] = ()) -> None:
            with owner_connect(database) as connection:
                connection.execute(sql.SQL(statement.replace("?", "%s")), params)

        return Backend("postgres", uow, pg_execute)
    path: Path = request.getfixturevalue("sqlite_path")
    sqlite_factory: UnitOfWorkFactory = request.getfixturevalue("sqlite_uow")

    def sqlite_execute(statement: str, params: tuple[Any, ...] = ()) -> None:
        with sqlite3.connect(path) as connection:
            connection.execute(statement, params)

    return Backend("sqlite", sqlite_factory, sqlite_execute)


# ------------------------------------------------------------------------------------------------ Redis


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL, once it has answered a PING (checked once per run, without retries)."""
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, retry=Retry(NoBackoff(), 0))
    try:
        probe.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    finally:
        probe.close()
    return REDIS_URL


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def stream_name(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A stream of this test's own on db 0, deleted afterwards."""
    name = f"promptsales:test:{uuid.uuid4().hex}"
    yield name
    await redis_client.delete(name)


# -------------------------------------------------------------------------------------- shared helpers


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def caller_for(tenant_id: str, *, actor_id: str = "test-agent") -> Caller:
    return Caller(tenant_id=tenant_id, actor_id=actor_id, request_id=new_id("req"))


class CreatedOrganization(BaseModel):
    id: str
    name: str


async def count_rows(uow_factory: UnitOfWorkFactory, tenant_id: str, record: Any) -> int:
    """Rows of ``record`` visible to ``tenant_id`` (filtered explicitly as well, so SQLite agrees)."""

    async def work(uow: UnitOfWork) -> _Count:
        total = await uow.session.execute(select(func.count()).select_from(record).where(record.tenant_id == tenant_id))
        return _Count(value=int(total.scalar_one()))

    result = await uow_factory.read(caller_for(tenant_id), work)
    return result.value


class _Count(BaseModel):
    value: int


async def side_effect_counts(uow_factory: UnitOfWorkFactory, tenant_id: str) -> dict[str, int]:
    """How many organizations, audit entries, outbox events and idempotency records a tenant has."""
    return {
        "organizations": await count_rows(uow_factory, tenant_id, OrganizationRecord),
        "audit": await count_rows(uow_factory, tenant_id, AuditEntryRecord),
        "outbox": await count_rows(uow_factory, tenant_id, OutboxEventRecord),
        "idempotency": await count_rows(uow_factory, tenant_id, IdempotencyRecord),
    }


def organization_work(name: str, *, calls: list[str] | None = None, fail: bool = False) -> Any:
    """A use case that inserts an organization, audits it and emits an event (optionally then fails)."""

    async def work(uow: UnitOfWork) -> CreatedOrganization:
        if calls is not None:
            calls.append(name)
        org = OrganizationRecord(
            id=new_id("org"), tenant_id=uow.tenant_id, name=name, created_at=uow.now, updated_at=uow.now
        )
        uow.session.add(org)
        await uow.session.flush()  # the row really reaches the database inside the transaction
        uow.audit("crm.organization.create", target_type="organization", target_id=org.id, after={"name": name})
        uow.emit("crm.organization_created", {"organization_id": org.id, "name": name})
        if fail:
            raise RuntimeError("boom after insert")
        return CreatedOrganization(id=org.id, name=name)

    return work


async def create_organization(
    uow_factory: UnitOfWorkFactory,
    tenant_id: str,
    name: str,
    *,
    key: str | None = None,
    calls: list[str] | None = None,
    fail: bool = False,
) -> CreatedOrganization:
    return await uow_factory.mutate(
        caller_for(tenant_id),
        action="crm.organization.create",
        arguments={"name": name},
        idempotency_key=key,
        work=organization_work(name, calls=calls, fail=fail),
        result_type=CreatedOrganization,
    )


# ------------------------------------------------------------------------------------------ a whole runtime


@pytest_asyncio.fixture
async def pg_runtime(pg_database: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A started process runtime on the shared Postgres database, for a fresh tenant on the Enterprise plan."""
    from promptsales.servers.runtime import Runtime  # tests of the data layer alone need no server package

    settings = Settings(
        database_url=pg_url(pg_database),
        data_dir=tmp_path,
        tenant=f"t-{uuid.uuid4().hex[:12]}",
        default_plan="enterprise",
        rate_limits_enabled=False,
        entitlement_cache_seconds=0,
        redis_url=None,
        database_pool_size=30,
    )
    runtime = Runtime(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def owner_count(database: str, tenant: str, statement: str) -> int:
    """One count read as the owner (outside RLS); ``statement`` filters by ``tenant_id = %s``."""
    with owner_connect(database) as connection:
        row = connection.execute(statement, (tenant,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def time_() -> Any:
    """A fake clock the connectors' policy sleeps on and their simulators read (tests.integration.connector_fakes)."""
    from tests.integration.connector_fakes import FakeTime

    return FakeTime()

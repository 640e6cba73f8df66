"""Async engines for the embedded SQLite default and Postgres, with per-dialect connection setup."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from promptsales.domain_core.infrastructure.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the process's engine; called from a lifespan, disposed on shutdown."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(settings)
    raise ValueError(f"unsupported database backend {url.get_backend_name()!r}; use sqlite or postgresql")


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(settings.resolved_database_url, pool_size=5, max_overflow=0)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take over transaction control from the driver so BEGIN IMMEDIATE below is what starts each one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers queue on the database lock at BEGIN instead of failing with SQLITE_BUSY mid-transaction.
        read_only = connection.get_execution_options().get("promptsales_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _postgres_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"prepare_threshold": 2},
        # The driver sends no implicit BEGIN: the unit of work opens each transaction itself, together with
        # the tenant setting, in one round trip (see uow.begin).
        isolation_level="AUTOCOMMIT",
    )
    role = settings.database_app_role

    @event.listens_for(engine.sync_engine, "connect")
    def _assume_app_role(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The app works as a non-owner role so forced row-level security applies to every query.
        if not role:
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{role}"')

    return engine

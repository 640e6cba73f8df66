"""Schema management: which tables exist, and running Alembic migrations to head."""

import importlib
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

TABLE_MODULES = (
    "promptsales.domain_core.infrastructure.tables",
    "promptsales.domain_core.crm.tables",
    "promptsales.domain_core.business.tables",
    "promptsales.domain_core.content.tables",
    "promptsales.domain_core.integrations.tables",
    "promptsales.domain_core.campaigns.tables",
    "promptsales.domain_core.analytics.tables",
)


def import_all_tables() -> None:
    """Register every context's tables on the shared metadata."""
    for module in TABLE_MODULES:
        importlib.import_module(module)


def sync_url(url: str) -> str:
    """The synchronous driver URL for an async one (migrations run synchronously)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def alembic_config(database_url: str, *, app_role: str = "promptsales_app") -> Config:
    """An Alembic config pointing at the packaged migrations."""
    location = Path(str(resources.files("promptsales.domain_core.infrastructure") / "migrations"))
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["app_role"] = app_role
    return config


def upgrade_to_head(database_url: str, *, app_role: str = "promptsales_app") -> None:
    """Apply every pending migration (creates tables, the app role, grants and RLS policies)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url, app_role=app_role), "head")


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()

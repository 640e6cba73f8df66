"""Dialect-aware INSERT … ON CONFLICT DO NOTHING for the two supported backends."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


def insert_ignore(session: AsyncSession, table: Any) -> Any:
    """An insert that silently skips rows whose primary key already exists."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def upsert_touch(session: AsyncSession, table: Any, key: list[str]) -> Any:
    """An insert that, when the key exists, rewrites the key to itself: the row is locked and RETURNING works."""
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(index_elements=key, set_={k: statement.excluded[k] for k in key})

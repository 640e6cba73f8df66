"""Helpers the CRM repositories share: race-safe inserts and LIKE patterns."""

from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel

from promptsales.domain_core.infrastructure.uow import UnitOfWork

RecordT = TypeVar("RecordT", bound=SQLModel)


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern for a substring, with wildcards in user text escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def column_values(record: SQLModel) -> dict[str, Any]:
    """The record's column values, ready for an INSERT."""
    table = getattr(type(record), "__table__")  # noqa: B009  # set by SQLModel on table classes
    return {column.name: getattr(record, column.name) for column in table.columns}


async def insert_if_absent(uow: UnitOfWork, record: RecordT) -> RecordT | None:
    """Insert ``record`` unless a unique key of its table is taken; the stored row, or None when it was.

    INSERT … ON CONFLICT DO NOTHING waits for a concurrent writer of the same key to finish instead of
    failing, so the caller can read the winner's row right after a None.
    """
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    model = type(record)
    statement = dialect.insert(model).values(**column_values(record)).on_conflict_do_nothing().returning(model)
    stored: RecordT | None = (await uow.session.execute(statement)).scalars().first()
    return stored

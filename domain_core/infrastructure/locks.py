"""Named, tenant-scoped locks held until the transaction ends: one writer at a time for an invariant no
unique index can express (one open checkout, one default brand kit, one company per name)."""

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def serialize(session: AsyncSession, tenant_id: str, name: str) -> None:
    """Wait for the tenant's other writers of ``name`` to finish, then hold it until commit or rollback.

    Postgres: a transaction-scoped advisory lock, taken before the rows are read, so concurrent writers queue
    instead of racing. SQLite already runs one writer at a time (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"{tenant_id}:{name}"}
        )

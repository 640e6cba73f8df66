"""Idempotency records: same key + same arguments replays the stored result; different arguments conflict."""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure.tables import IdempotencyRecord
from promptsales.domain_core.infrastructure.upsert import insert_ignore
from promptsales.domain_core.shared.errors import IdempotencyConflict

RETENTION = timedelta(hours=48)


def request_hash(arguments: dict[str, Any]) -> str:
    """Canonical digest of a call's arguments (the key itself excluded by the caller)."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession,
    *,
    tenant_id: str,
    scope: str,
    key: str,
    digest: str,
    now: datetime,
    retention: timedelta = RETENTION,
) -> dict[str, Any] | None:
    """Reserve ``key`` inside the current transaction, or return the stored response of an earlier call.

    The insert takes the key's row lock: a concurrent caller with the same key waits here until the
    first transaction commits (then sees its stored response) or rolls back (then claims it itself).
    """
    where = (
        col(IdempotencyRecord.tenant_id) == tenant_id,
        col(IdempotencyRecord.scope) == scope,
        col(IdempotencyRecord.key) == key,
    )
    await session.execute(delete(IdempotencyRecord).where(*where, col(IdempotencyRecord.expires_at) < now))
    inserted = await session.execute(
        insert_ignore(session, IdempotencyRecord)
        .values(
            tenant_id=tenant_id,
            scope=scope,
            key=key,
            request_hash=digest,
            response=None,
            created_at=now,
            expires_at=now + retention,
        )
        .returning(IdempotencyRecord.key)
    )
    if inserted.first() is not None:
        return None
    existing = (await session.execute(select(IdempotencyRecord).where(*where))).scalar_one()
    if existing.request_hash != digest:
        raise IdempotencyConflict(key)
    return existing.response or {}


async def complete(session: AsyncSession, *, tenant_id: str, scope: str, key: str, response: dict[str, Any]) -> None:
    """Store the response of the call that claimed ``key``, in the same transaction as its effect."""
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.tenant_id) == tenant_id,
                col(IdempotencyRecord.scope) == scope,
                col(IdempotencyRecord.key) == key,
            )
        )
    ).scalar_one()
    record.response = response
    session.add(record)


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the current tenant's expired records; returns how many went."""
    result = await session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < now))
    return int(getattr(result, "rowcount", 0) or 0)

"""Idempotency records: same key + same arguments replays the stored result; different arguments conflict."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure.tables import IdempotencyRecord
from promptsales.domain_core.infrastructure.upsert import insert_ignore
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import IdempotencyConflict, StillRunning

RETENTION = timedelta(hours=48)
# How long a reservation for paid work (model call, rendering) holds its key before another caller may take
# it over: longer than the slowest paid step (model total deadline, a 60 s video render).
LEASE = timedelta(minutes=3)


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
    existing = await _insert_or_lock(
        session,
        tenant_id=tenant_id,
        scope=scope,
        key=key,
        digest=digest,
        now=now,
        retention=retention,
        holder=None,
        lease_until=None,
    )
    if existing is None:
        return None
    if existing.request_hash != digest:
        raise IdempotencyConflict(key)
    if existing.response is None:  # reserved by a paid call that has not finished (see reserve())
        raise StillRunning()
    response: dict[str, Any] = existing.response
    return response


async def stored(
    session: AsyncSession, *, tenant_id: str, scope: str, key: str, digest: str, now: datetime
) -> dict[str, Any] | None:
    """The response of a finished, unexpired call with ``key`` (None when there is none yet)."""
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                *_key_is(tenant_id, scope, key),
                col(IdempotencyRecord.expires_at) >= now,
            )
        )
    ).scalar_one_or_none()
    if record is None or record.response is None:
        return None
    if record.request_hash != digest:
        raise IdempotencyConflict(key)
    response: dict[str, Any] = record.response
    return response


async def _insert_or_lock(
    session: AsyncSession,
    *,
    tenant_id: str,
    scope: str,
    key: str,
    digest: str,
    now: datetime,
    retention: timedelta,
    holder: str | None,
    lease_until: datetime | None,
) -> IdempotencyRecord | None:
    """Insert the key's record (None: it is ours), or return the existing one, locked for this transaction.

    An expired record is deleted first. A concurrent insert of the same key waits on the first one's row until
    that transaction ends, so two callers never both own a key.
    """
    where = _key_is(tenant_id, scope, key)
    await session.execute(delete(IdempotencyRecord).where(*where, col(IdempotencyRecord.expires_at) < now))
    inserted = await session.execute(
        insert_ignore(session, IdempotencyRecord)
        .values(
            tenant_id=tenant_id,
            scope=scope,
            key=key,
            request_hash=digest,
            response=None,
            holder=holder,
            lease_until=lease_until,
            created_at=now,
            expires_at=now + retention,
        )
        .returning(IdempotencyRecord.key)
    )
    if inserted.first() is not None:
        return None
    existing: IdempotencyRecord = (
        await session.execute(select(IdempotencyRecord).where(*where).with_for_update())
    ).scalar_one()
    return existing


def _key_is(tenant_id: str, scope: str, key: str) -> tuple[Any, ...]:
    """The conditions that pick one idempotency record."""
    return (
        col(IdempotencyRecord.tenant_id) == tenant_id,
        col(IdempotencyRecord.scope) == scope,
        col(IdempotencyRecord.key) == key,
    )


@dataclass(frozen=True)
class Reservation:
    """The outcome of reserving a key for paid work: ours to run, or an earlier call's stored response."""

    holder: str | None
    response: dict[str, Any] | None = None
    running: bool = False


async def reserve(
    session: AsyncSession,
    *,
    tenant_id: str,
    scope: str,
    key: str,
    digest: str,
    holder: str,
    now: datetime,
    retention: timedelta = RETENTION,
) -> Reservation:
    """Claim ``key`` before paid work, in a transaction of its own that commits at once.

    Returns ``Reservation(holder)`` when the work is ours to do (a fresh key, or one whose holder's lease ran
    out), the stored response of a finished call, or ``running=True`` while another holder is still at work.
    """
    existing = await _insert_or_lock(
        session,
        tenant_id=tenant_id,
        scope=scope,
        key=key,
        digest=digest,
        now=now,
        retention=retention,
        holder=holder,
        lease_until=now + LEASE,
    )
    if existing is None:
        return Reservation(holder)
    if existing.request_hash != digest:
        raise IdempotencyConflict(key)
    if existing.response is not None:
        return Reservation(None, response=existing.response)
    if existing.lease_until is not None and as_utc(existing.lease_until) > now:
        return Reservation(None, running=True)
    # The holder died or gave up without releasing: take the key over.
    existing.holder = holder
    existing.lease_until = now + LEASE
    session.add(existing)
    return Reservation(holder)


async def release(session: AsyncSession, *, tenant_id: str, scope: str, key: str, holder: str) -> None:
    """Give back a reservation whose paid work failed, so a retry with the same key can run."""
    await session.execute(
        delete(IdempotencyRecord).where(
            *_key_is(tenant_id, scope, key),
            # complete() clears the holder, so this never removes a kept response.
            col(IdempotencyRecord.holder) == holder,
        )
    )


async def held_response(
    session: AsyncSession, *, tenant_id: str, scope: str, key: str, holder: str
) -> tuple[bool, dict[str, Any] | None]:
    """Lock the reserved key inside the writing transaction: (still ours, response stored by whoever took it)."""
    record = (
        await session.execute(
            select(IdempotencyRecord)
            .where(
                *_key_is(tenant_id, scope, key),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if record is None:
        return False, None
    return record.holder == holder and record.response is None, record.response


async def complete(session: AsyncSession, *, tenant_id: str, scope: str, key: str, response: dict[str, Any]) -> None:
    """Store the response of the call that claimed ``key``, in the same transaction as its effect."""
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                *_key_is(tenant_id, scope, key),
            )
        )
    ).scalar_one()
    record.response = response
    record.holder = None
    record.lease_until = None
    session.add(record)


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the current tenant's expired records; returns how many went."""
    result = await session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < now))
    return int(getattr(result, "rowcount", 0) or 0)

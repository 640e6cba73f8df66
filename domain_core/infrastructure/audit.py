"""Audit log: one entry per mutation, hash-chained per tenant so any later edit is evident."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.infrastructure.tables import AuditChainHeadRecord, AuditEntryRecord
from promptsales.domain_core.infrastructure.upsert import upsert_touch
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.ids import new_id

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class PendingAuditEntry:
    """An entry collected during a unit of work, chained and written just before commit."""

    action: str
    target_type: str
    target_id: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """Result of checking a tenant's chain; ``broken_entry_id`` names the first entry that fails."""

    ok: bool
    entries_checked: int
    broken_entry_id: str | None = None
    broken_seq: int | None = None
    reason: str | None = None


def summarize_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Keep only the fields that changed, as ``{"before": {...}, "after": {...}}``."""
    before = before or {}
    after = after or {}
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {
        "before": {k: before.get(k) for k in changed if k in before},
        "after": {k: after.get(k) for k in changed if k in after},
    }


HASHED_FIELDS = (
    "id",
    "tenant_id",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_kind",
    "source",
    "action",
    "target_type",
    "target_id",
    "changes",
    "request_id",
    "idempotency_key",
    "prev_hash",
)


def entry_hash(record: AuditEntryRecord | Mapping[str, Any]) -> str:
    """Hash of an entry's content and its predecessor's hash (a stored record or the row about to be written)."""
    values = record if isinstance(record, Mapping) else {name: getattr(record, name) for name in HASHED_FIELDS}
    body = {name: values[name] for name in HASHED_FIELDS}
    body["occurred_at"] = values["occurred_at"].isoformat()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedEntries:
    """Entries chained onto a tenant's locked head: the rows to insert and the head's new sequence and hash."""

    tenant_id: str
    rows: list[dict[str, Any]]
    seq: int
    hash: str


async def chain_entries(
    session: AsyncSession,
    caller: Caller,
    entries: Sequence[PendingAuditEntry],
    *,
    now: datetime,
    idempotency_key: str | None,
) -> ChainedEntries | None:
    """Lock the tenant's chain head and chain ``entries`` onto it (None: nothing to audit).

    The head row lock orders concurrent writers of one tenant until the transaction ends; the caller writes
    the rows and the new head in that same transaction (``side_records.write``).
    """
    if not entries:
        return None
    # One statement creates the tenant's head if missing, locks it (DO UPDATE takes the row lock) and reads it.
    seq, prev = (
        await session.execute(
            upsert_touch(session, AuditChainHeadRecord, ["tenant_id"])
            .values(tenant_id=caller.tenant_id, seq=0, hash=GENESIS_HASH)
            .returning(col(AuditChainHeadRecord.seq), col(AuditChainHeadRecord.hash))
        )
    ).one()
    rows: list[dict[str, Any]] = []
    for pending in entries:
        seq += 1
        row: dict[str, Any] = {
            "id": new_id("aud"),
            "tenant_id": caller.tenant_id,
            "seq": seq,
            "occurred_at": now,
            "actor_id": caller.actor_id,
            "actor_kind": caller.actor_kind,
            "source": caller.source,
            "action": pending.action,
            "target_type": pending.target_type,
            "target_id": pending.target_id,
            "changes": pending.changes,
            "request_id": caller.request_id,
            "idempotency_key": idempotency_key,
            "prev_hash": prev,
        }
        row["hash"] = prev = entry_hash(row)
        rows.append(row)
    return ChainedEntries(caller.tenant_id, rows, seq, prev)


def head_update(chained: ChainedEntries) -> Update:
    """The statement that moves the tenant's chain head past ``chained``."""
    return (
        update(AuditChainHeadRecord)
        .where(col(AuditChainHeadRecord.tenant_id) == chained.tenant_id)
        .values(seq=chained.seq, hash=chained.hash)
    )


async def verify_chain(session: AsyncSession, tenant_id: str, *, batch: int = 1000) -> ChainVerification:
    """Recompute the tenant's chain from the first entry and report the first mismatch.

    The chain must end exactly at the tenant's chain head, so deleting the newest entries (or rehashing
    the newest one) is caught too. Entries appended after the head was read are left for the next run.
    """
    head = (
        await session.execute(select(AuditChainHeadRecord).where(col(AuditChainHeadRecord.tenant_id) == tenant_id))
    ).scalar_one_or_none()
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    last_id: str | None = None
    while True:
        query = select(AuditEntryRecord).where(
            col(AuditEntryRecord.tenant_id) == tenant_id, col(AuditEntryRecord.seq) > last_seq
        )
        if head is not None:
            query = query.where(col(AuditEntryRecord.seq) <= head.seq)
        rows = (await session.execute(query.order_by(col(AuditEntryRecord.seq)).limit(batch))).scalars().all()
        if not rows:
            return _check_end(head, checked, last_seq, last_id, prev)
        for record in rows:
            checked += 1
            problem = None
            if record.seq != expected_seq:
                problem = f"sequence gap: expected {expected_seq}, found {record.seq}"
            elif record.prev_hash != prev:
                problem = "prev_hash does not match the previous entry"
            elif entry_hash(record) != record.hash:
                problem = "content does not match its hash (entry was altered)"
            if problem:
                return ChainVerification(
                    ok=False,
                    entries_checked=checked,
                    broken_entry_id=record.id,
                    broken_seq=record.seq,
                    reason=problem,
                )
            prev = record.hash
            expected_seq += 1
            last_seq, last_id = record.seq, record.id


def _check_end(
    head: AuditChainHeadRecord | None, checked: int, last_seq: int, last_id: str | None, prev: str
) -> ChainVerification:
    if head is None:
        if checked:
            return ChainVerification(
                ok=False, entries_checked=checked, reason="the chain head is missing (it was deleted)"
            )
        return ChainVerification(ok=True, entries_checked=0)
    if last_seq != head.seq:
        return ChainVerification(
            ok=False,
            entries_checked=checked,
            broken_seq=last_seq + 1,
            reason=f"entries missing: the chain ends at seq {last_seq} but its head records seq {head.seq}",
        )
    if prev != head.hash:
        return ChainVerification(
            ok=False,
            entries_checked=checked,
            broken_entry_id=last_id,
            broken_seq=last_seq,
            reason="the newest entry does not match the hash recorded in the chain head",
        )
    return ChainVerification(ok=True, entries_checked=checked)

"""Integrations queries and writes; every one scoped to the unit of work's tenant (routes answer across tenants)."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlmodel import col

from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore
from promptsales.domain_core.integrations.tables import (
    ConnectionRecord,
    ExternalLinkRecord,
    OAuthStateRecord,
    RouteRecord,
    SyncRunRecord,
    WebhookReceiptRecord,
)

# ------------------------------------------------------------------------------------------------ connections


async def connection(uow: UnitOfWork, platform: str, *, for_update: bool = False) -> ConnectionRecord | None:
    """The tenant's connection to ``platform``."""
    query = select(ConnectionRecord).where(
        col(ConnectionRecord.tenant_id) == uow.tenant_id, col(ConnectionRecord.platform) == platform
    )
    if for_update:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def connections(uow: UnitOfWork) -> list[ConnectionRecord]:
    """Every connection of the tenant."""
    result = await uow.session.execute(select(ConnectionRecord).where(col(ConnectionRecord.tenant_id) == uow.tenant_id))
    return list(result.scalars())


async def insert_connection(uow: UnitOfWork, record: ConnectionRecord) -> ConnectionRecord:
    """Create the tenant's connection to a platform, or return the one a concurrent call created (locked)."""
    await uow.session.execute(insert_ignore(uow.session, ConnectionRecord).values(**record.model_dump()))
    found = await connection(uow, record.platform, for_update=True)
    assert found is not None
    return found


async def save(uow: UnitOfWork, record: Any) -> None:
    """Write a changed record now."""
    uow.session.add(record)
    await uow.session.flush()


# ------------------------------------------------------------------------------------------------ routes


async def add_route(uow: UnitOfWork, *, kind: str, key: str) -> None:
    """Let inbound requests naming ``key`` find this tenant (idempotent)."""
    await uow.session.execute(
        insert_ignore(uow.session, RouteRecord).values(kind=kind, key=key, tenant_id=uow.tenant_id, created_at=uow.now)
    )


async def route_tenant(uow: UnitOfWork, *, kind: str, key: str) -> str | None:
    """The tenant an inbound request belongs to, whatever tenant the transaction is for (ids only)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        result = await uow.session.execute(
            text("SELECT promptsales_integration_route_tenant(:kind, :key)"), {"kind": kind, "key": key}
        )
    else:
        result = await uow.session.execute(
            select(col(RouteRecord.tenant_id)).where(col(RouteRecord.kind) == kind, col(RouteRecord.key) == key)
        )
    tenant = result.scalar_one_or_none()
    return str(tenant) if tenant is not None else None


# ------------------------------------------------------------------------------------------------ OAuth states


async def add_state(uow: UnitOfWork, record: OAuthStateRecord) -> None:
    """Keep an authorization's state (hashed) and sealed verifier."""
    uow.session.add(record)
    await uow.session.flush()


async def take_state(uow: UnitOfWork, state_hash: str) -> OAuthStateRecord | None:
    """Use a state once: the record if it was unused and unexpired (it is marked used either way)."""
    result = await uow.session.execute(
        update(OAuthStateRecord)
        .where(
            col(OAuthStateRecord.tenant_id) == uow.tenant_id,
            col(OAuthStateRecord.state_hash) == state_hash,
            col(OAuthStateRecord.used_at).is_(None),
            col(OAuthStateRecord.expires_at) > uow.now,
        )
        .values(used_at=uow.now)
        .returning(OAuthStateRecord)
    )
    row = result.first()
    return row[0] if row is not None else None


# ------------------------------------------------------------------------------------------------ sync runs


async def sync_run(uow: UnitOfWork, run_id: str, *, for_update: bool = False) -> SyncRunRecord | None:
    """One sync run of the tenant."""
    query = select(SyncRunRecord).where(col(SyncRunRecord.tenant_id) == uow.tenant_id, col(SyncRunRecord.id) == run_id)
    if for_update:  # a locked read sees the row as committed now, even if this session loaded it before
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def unfinished_run(uow: UnitOfWork, connection_id: str, capability: str) -> SyncRunRecord | None:
    """The connection's latest run of ``capability`` that did not finish (running, or failed with a cursor)."""
    result = await uow.session.execute(
        select(SyncRunRecord)
        .where(
            col(SyncRunRecord.tenant_id) == uow.tenant_id,
            col(SyncRunRecord.connection_id) == connection_id,
            col(SyncRunRecord.capability) == capability,
            col(SyncRunRecord.status).in_(("running", "interrupted")),
        )
        .order_by(col(SyncRunRecord.started_at).desc())
        .limit(1)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def sync_runs(
    uow: UnitOfWork, *, platform: str | None, after: tuple[datetime, str] | None, limit: int
) -> Sequence[SyncRunRecord]:
    """Runs newest first, from a keyset position."""
    query = select(SyncRunRecord).where(col(SyncRunRecord.tenant_id) == uow.tenant_id)
    if platform:
        query = query.where(col(SyncRunRecord.platform) == platform)
    if after is not None:
        started, run_id = after
        query = query.where(
            (col(SyncRunRecord.started_at) < started)
            | ((col(SyncRunRecord.started_at) == started) & (col(SyncRunRecord.id) < run_id))
        )
    query = query.order_by(col(SyncRunRecord.started_at).desc(), col(SyncRunRecord.id).desc()).limit(limit)
    return list((await uow.session.execute(query)).scalars())


# ------------------------------------------------------------------------------------------------ external links


async def links(
    uow: UnitOfWork, platform: str, object_type: str, external_ids: Sequence[str], *, for_update: bool = False
) -> dict[str, ExternalLinkRecord]:
    """The links of these external records, by external id (locked for a read-modify-write with ``for_update``)."""
    if not external_ids:
        return {}
    query = select(ExternalLinkRecord).where(
        col(ExternalLinkRecord.tenant_id) == uow.tenant_id,
        col(ExternalLinkRecord.platform) == platform,
        col(ExternalLinkRecord.object_type) == object_type,
        col(ExternalLinkRecord.external_id).in_(list(external_ids)),
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    result = await uow.session.execute(query)
    return {link.external_id: link for link in result.scalars()}


async def claim_link(
    uow: UnitOfWork, *, platform: str, object_type: str, external_id: str, local_id: str
) -> tuple[ExternalLinkRecord, bool]:
    """The link of an external record, locked for a read-modify-write; created empty when there was none (True).

    Concurrent writers of one new record meet here: the insert is skipped for all but the first, and each then
    waits on the row lock and reads what the ones before it committed (no write is lost).
    """
    inserted = await uow.session.execute(
        insert_ignore(uow.session, ExternalLinkRecord)
        .values(
            tenant_id=uow.tenant_id,
            platform=platform,
            object_type=object_type,
            external_id=external_id,
            local_id=local_id,
            fields={},
            synced_at=uow.now,
        )
        .returning(col(ExternalLinkRecord.external_id))
    )
    created = inserted.first() is not None
    link = (await links(uow, platform, object_type, [external_id], for_update=True)).get(external_id)
    assert link is not None
    return link, created


async def links_with(
    uow: UnitOfWork, platform: str, object_type: str, *, fields: Mapping[str, Sequence[str]], limit: int
) -> list[ExternalLinkRecord]:
    """Live links whose synced ``fields`` hold one of the given values for each name (a ticket's contact and
    status), latest remote change first."""
    query = select(ExternalLinkRecord).where(
        col(ExternalLinkRecord.tenant_id) == uow.tenant_id,
        col(ExternalLinkRecord.platform) == platform,
        col(ExternalLinkRecord.object_type) == object_type,
        col(ExternalLinkRecord.deleted_at).is_(None),
    )
    for name, values in fields.items():
        query = query.where(col(ExternalLinkRecord.fields)[name].as_string().in_(list(values)))
    query = query.order_by(
        col(ExternalLinkRecord.remote_modified_at).desc(), col(ExternalLinkRecord.external_id)
    ).limit(limit)
    return list((await uow.session.execute(query)).scalars())


async def link_of_local(uow: UnitOfWork, platform: str, object_type: str, local_id: str) -> ExternalLinkRecord | None:
    """The link of a local record on ``platform``."""
    result = await uow.session.execute(
        select(ExternalLinkRecord).where(
            col(ExternalLinkRecord.tenant_id) == uow.tenant_id,
            col(ExternalLinkRecord.platform) == platform,
            col(ExternalLinkRecord.object_type) == object_type,
            col(ExternalLinkRecord.local_id) == local_id,
        )
    )
    return result.scalar_one_or_none()


async def put_link(
    uow: UnitOfWork,
    *,
    platform: str,
    object_type: str,
    external_id: str,
    local_id: str,
    remote_modified_at: datetime | None,
    fields: dict[str, Any],
    deleted: bool = False,
) -> None:
    """Create or move a link (a local record links to one external record per platform)."""
    existing = (await links(uow, platform, object_type, [external_id])).get(external_id)
    if existing is None:
        other = await link_of_local(uow, platform, object_type, local_id)
        if other is not None:  # the local record was linked to another external record (merged there): re-point
            await uow.session.delete(other)
            await uow.session.flush()
        existing = ExternalLinkRecord(
            tenant_id=uow.tenant_id,
            platform=platform,
            object_type=object_type,
            external_id=external_id,
            local_id=local_id,
            synced_at=uow.now,
        )
    existing.local_id = local_id
    existing.remote_modified_at = remote_modified_at
    existing.fields = fields
    existing.synced_at = uow.now
    existing.deleted_at = uow.now if deleted else None
    uow.session.add(existing)
    await uow.session.flush()


# ------------------------------------------------------------------------------------------------ webhook receipts


async def has_receipt(uow: UnitOfWork, *, platform: str, event_id: str) -> bool:
    """Whether an event was already recorded (a cheap check before re-reading the platform)."""
    result = await uow.session.execute(
        select(col(WebhookReceiptRecord.event_id)).where(
            col(WebhookReceiptRecord.tenant_id) == uow.tenant_id,
            col(WebhookReceiptRecord.platform) == platform,
            col(WebhookReceiptRecord.event_id) == event_id,
        )
    )
    return result.first() is not None


async def first_receipt(uow: UnitOfWork, *, platform: str, event_id: str, event_type: str, outcome: str) -> bool:
    """Record an event as received; False when it already was (concurrent deliveries: one wins)."""
    result = await uow.session.execute(
        insert_ignore(uow.session, WebhookReceiptRecord)
        .values(
            platform=platform,
            event_id=event_id,
            tenant_id=uow.tenant_id,
            event_type=event_type,
            received_at=uow.now,
            outcome=outcome,
        )
        .returning(col(WebhookReceiptRecord.event_id))
    )
    return result.first() is not None

"""Content persistence: queries and writes, always tenant-scoped (and guarded by RLS on Postgres); every write flushes.

Services reach the database only through these functions, so what a later query sees never depends on when a
service happened to flush.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from promptsales.domain_core.content.tables import (
    AiSettingsRecord,
    AssetRecord,
    AssetVersionRecord,
    BlobRecord,
    BrandKitRecord,
)
from promptsales.domain_core.infrastructure import locks
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.infrastructure.upsert import insert_ignore


async def serialize(uow: UnitOfWork, scope: str) -> None:
    """Queue the tenant's writers of ``scope`` (e.g. its brand kits) one after another until commit.

    Postgres: a transaction-scoped advisory lock, taken before the rows are read, so concurrent writers wait
    instead of racing on a natural key or an invariant such as "one default kit". SQLite already runs one
    writer at a time.
    """
    await locks.serialize(uow.session, uow.tenant_id, scope)


# ------------------------------------------------------------------------------------------- brand kits


async def brand_kit(uow: UnitOfWork, *, name: str | None) -> BrandKitRecord | None:
    """The kit called ``name``, or the tenant's default kit (None when there is none)."""
    query = select(BrandKitRecord).where(col(BrandKitRecord.tenant_id) == uow.tenant_id)
    query = query.where(col(BrandKitRecord.name) == name) if name else query.where(col(BrandKitRecord.is_default))
    return (await uow.session.execute(query)).scalar_one_or_none()


async def brand_kits(uow: UnitOfWork) -> list[BrandKitRecord]:
    """Every kit of the tenant, by name."""
    query = (
        select(BrandKitRecord).where(col(BrandKitRecord.tenant_id) == uow.tenant_id).order_by(col(BrandKitRecord.name))
    )
    return list((await uow.session.execute(query)).scalars())


async def save_brand_kits(uow: UnitOfWork, *records: BrandKitRecord) -> None:
    """Write kits now (a new or replaced kit, and any kit that stopped being the default)."""
    uow.session.add_all(records)
    await uow.session.flush()


# ------------------------------------------------------------------------------------------------ blobs


async def store_blob(uow: UnitOfWork, *, sha256: str, mime_type: str, data: bytes) -> None:
    """Keep file bytes once per content hash."""
    await uow.session.execute(
        insert_ignore(uow.session, BlobRecord).values(
            tenant_id=uow.tenant_id, sha256=sha256, mime_type=mime_type, size=len(data), data=data, created_at=uow.now
        )
    )


async def blob(uow: UnitOfWork, sha256: str) -> BlobRecord | None:
    """File bytes by hash."""
    query = select(BlobRecord).where(col(BlobRecord.tenant_id) == uow.tenant_id, col(BlobRecord.sha256) == sha256)
    return (await uow.session.execute(query)).scalar_one_or_none()


# ----------------------------------------------------------------------------------------------- assets


async def add_asset(uow: UnitOfWork, record: AssetRecord, version: AssetVersionRecord) -> None:
    """Write a new asset with its first version now."""
    uow.session.add(record)
    uow.session.add(version)
    await uow.session.flush()


async def save_asset(uow: UnitOfWork, record: AssetRecord) -> None:
    """Write an asset's changed state now."""
    uow.session.add(record)
    await uow.session.flush()


async def asset(uow: UnitOfWork, asset_id: str, *, lock: bool = False) -> AssetRecord | None:
    """An asset by id (row-locked for a review decision on Postgres)."""
    query = select(AssetRecord).where(col(AssetRecord.tenant_id) == uow.tenant_id, col(AssetRecord.id) == asset_id)
    if lock:
        query = query.with_for_update()
    return (await uow.session.execute(query)).scalar_one_or_none()


async def asset_by_target(uow: UnitOfWork, *, kind: str, target: str) -> AssetRecord | None:
    """The asset of ``kind`` made for ``target`` (an imported design's ``design:<platform>:<id>``), if any."""
    query = select(AssetRecord).where(
        col(AssetRecord.tenant_id) == uow.tenant_id, col(AssetRecord.kind) == kind, col(AssetRecord.target) == target
    )
    return (await uow.session.execute(query.order_by(col(AssetRecord.created_at)).limit(1))).scalar_one_or_none()


async def assets(uow: UnitOfWork, asset_ids: list[str]) -> list[AssetRecord]:
    """The tenant's assets among ``asset_ids`` (unknown ids are simply absent)."""
    if not asset_ids:
        return []
    query = select(AssetRecord).where(
        col(AssetRecord.tenant_id) == uow.tenant_id, col(AssetRecord.id).in_(sorted(set(asset_ids)))
    )
    return list((await uow.session.execute(query)).scalars())


async def versions(uow: UnitOfWork, asset_id: str) -> list[AssetVersionRecord]:
    """An asset's versions, oldest first."""
    query = (
        select(AssetVersionRecord)
        .where(col(AssetVersionRecord.tenant_id) == uow.tenant_id, col(AssetVersionRecord.asset_id) == asset_id)
        .order_by(col(AssetVersionRecord.version))
    )
    return list((await uow.session.execute(query)).scalars())


async def current_versions(uow: UnitOfWork, records: list[AssetRecord]) -> dict[str, AssetVersionRecord]:
    """The current version of each asset, by asset id, in one query."""
    if not records:
        return {}
    wanted = [(record.id, record.current_version) for record in records]
    query = select(AssetVersionRecord).where(
        col(AssetVersionRecord.tenant_id) == uow.tenant_id,
        tuple_(col(AssetVersionRecord.asset_id), col(AssetVersionRecord.version)).in_(wanted),
    )
    return {version.asset_id: version for version in (await uow.session.execute(query)).scalars()}


async def list_assets(
    uow: UnitOfWork,
    *,
    kind: str | None,
    status: str | None,
    channel: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[AssetRecord]:
    """Assets newest first, filtered, keyset-paginated on (created_at, id)."""
    query = select(AssetRecord).where(col(AssetRecord.tenant_id) == uow.tenant_id)
    for column, value in ((AssetRecord.kind, kind), (AssetRecord.status, status), (AssetRecord.channel, channel)):
        if value is not None:
            query = query.where(col(column) == value)
    if after is not None:
        query = query.where(tuple_(col(AssetRecord.created_at), col(AssetRecord.id)) < after)
    query = query.order_by(col(AssetRecord.created_at).desc(), col(AssetRecord.id).desc()).limit(limit)
    return list((await uow.session.execute(query)).scalars())


# ------------------------------------------------------------------------------------------ AI settings


async def ai_settings(uow: UnitOfWork) -> AiSettingsRecord | None:
    """The tenant's provider choice, if it made one."""
    query = select(AiSettingsRecord).where(col(AiSettingsRecord.tenant_id) == uow.tenant_id)
    # populate_existing: an upsert earlier in this unit changed the row behind the session's back.
    return (await uow.session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def upsert_ai_settings(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Insert or replace the tenant's provider choice in one statement (concurrent first choices cannot collide)."""
    row = {**values, "tenant_id": uow.tenant_id, "updated_at": uow.now}
    dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(AiSettingsRecord).values(**row)
    changed = {name: statement.excluded[name] for name in row if name != "tenant_id"}
    await uow.session.execute(statement.on_conflict_do_update(index_elements=["tenant_id"], set_=changed))

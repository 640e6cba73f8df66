"""Content queries, always scoped to the tenant (and guarded by RLS on Postgres)."""

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from promptsales.domain_core.content.tables import (
    AiSettingsRecord,
    AssetRecord,
    AssetVersionRecord,
    BlobRecord,
    BrandKitRecord,
)
from promptsales.domain_core.infrastructure.upsert import insert_ignore


async def brand_kit(session: AsyncSession, tenant_id: str, *, name: str | None) -> BrandKitRecord | None:
    """The kit called ``name``, or the tenant's default kit (None when there is none)."""
    query = select(BrandKitRecord).where(col(BrandKitRecord.tenant_id) == tenant_id)
    query = query.where(col(BrandKitRecord.name) == name) if name else query.where(col(BrandKitRecord.is_default))
    return (await session.execute(query)).scalar_one_or_none()


async def brand_kits(session: AsyncSession, tenant_id: str) -> list[BrandKitRecord]:
    """Every kit of the tenant, by name."""
    query = select(BrandKitRecord).where(col(BrandKitRecord.tenant_id) == tenant_id).order_by(col(BrandKitRecord.name))
    return list((await session.execute(query)).scalars())


async def store_blob(
    session: AsyncSession, tenant_id: str, *, sha256: str, mime_type: str, data: bytes, now: datetime
) -> None:
    """Keep file bytes once per content hash."""
    await session.execute(
        insert_ignore(session, BlobRecord).values(
            tenant_id=tenant_id, sha256=sha256, mime_type=mime_type, size=len(data), data=data, created_at=now
        )
    )


async def blob(session: AsyncSession, tenant_id: str, sha256: str) -> BlobRecord | None:
    """File bytes by hash."""
    query = select(BlobRecord).where(col(BlobRecord.tenant_id) == tenant_id, col(BlobRecord.sha256) == sha256)
    return (await session.execute(query)).scalar_one_or_none()


async def asset(session: AsyncSession, tenant_id: str, asset_id: str, *, lock: bool = False) -> AssetRecord | None:
    """An asset by id (row-locked for a review decision on Postgres)."""
    query = select(AssetRecord).where(col(AssetRecord.tenant_id) == tenant_id, col(AssetRecord.id) == asset_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def versions(session: AsyncSession, tenant_id: str, asset_id: str) -> list[AssetVersionRecord]:
    """An asset's versions, oldest first."""
    query = (
        select(AssetVersionRecord)
        .where(col(AssetVersionRecord.tenant_id) == tenant_id, col(AssetVersionRecord.asset_id) == asset_id)
        .order_by(col(AssetVersionRecord.version))
    )
    return list((await session.execute(query)).scalars())


async def list_assets(
    session: AsyncSession,
    tenant_id: str,
    *,
    kind: str | None,
    status: str | None,
    channel: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[AssetRecord]:
    """Assets newest first, filtered, keyset-paginated on (created_at, id)."""
    query = select(AssetRecord).where(col(AssetRecord.tenant_id) == tenant_id)
    for column, value in ((AssetRecord.kind, kind), (AssetRecord.status, status), (AssetRecord.channel, channel)):
        if value is not None:
            query = query.where(col(column) == value)
    if after is not None:
        query = query.where(tuple_(col(AssetRecord.created_at), col(AssetRecord.id)) < after)
    query = query.order_by(col(AssetRecord.created_at).desc(), col(AssetRecord.id).desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def ai_settings(session: AsyncSession, tenant_id: str) -> AiSettingsRecord | None:
    """The tenant's provider choice, if it made one."""
    query = select(AiSettingsRecord).where(col(AiSettingsRecord.tenant_id) == tenant_id)
    return (await session.execute(query)).scalar_one_or_none()

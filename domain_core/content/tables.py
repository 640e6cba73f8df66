"""Content persistence: brand kits, the asset library (versions, review decisions), blobs, AI provider choice."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class BrandKitRecord(SQLModel, table=True):
    """A tenant's brand: voice, colours, logo, fonts and the words it must or must not use."""

    __tablename__ = "content_brand_kits"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_content_brand_kit_name"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    name: str = Field(max_length=80)
    voice: str = Field(default="", max_length=1000)
    colors: list[str] = Field(sa_column=Column(JsonType, nullable=False))
    fonts: list[str] = Field(sa_column=Column(JsonType, nullable=False))
    banned_words: list[str] = Field(sa_column=Column(JsonType, nullable=False))
    required_phrases: list[str] = Field(sa_column=Column(JsonType, nullable=False))
    substantiated_claims: list[str] = Field(sa_column=Column(JsonType, nullable=False))
    max_emoji: int | None = None
    logo_sha256: str | None = Field(default=None, max_length=64)
    is_default: bool = False
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AssetRecord(SQLModel, table=True):
    """A piece of content in the library (copy, image or video) and where it stands in review."""

    __tablename__ = "content_assets"
    __table_args__ = (Index("ix_content_asset_tenant_created", "tenant_id", "created_at", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    kind: str = Field(max_length=8, description="copy, image or video")
    title: str = Field(max_length=200)
    channel: str | None = Field(default=None, max_length=40)
    target: str | None = Field(default=None, max_length=60, description="copy format or image/video placement")
    status: str = Field(max_length=12, description="draft, in_review, approved or rejected")
    current_version: int = 1
    brand_kit_id: str | None = Field(default=None, max_length=40)
    created_by: str = Field(max_length=128)
    decided_by: str | None = Field(default=None, max_length=128)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AssetVersionRecord(SQLModel, table=True):
    """One version of an asset: the copy itself, or the file (by hash) with what made it."""

    __tablename__ = "content_asset_versions"

    tenant_id: str = Field(primary_key=True, max_length=64)
    asset_id: str = Field(primary_key=True, max_length=40)
    version: int = Field(primary_key=True)
    body: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    blob_sha256: str | None = Field(default=None, max_length=64)
    mime_type: str | None = Field(default=None, max_length=40)
    provider: str = Field(max_length=40)
    model: str = Field(max_length=80)
    input_tokens: int = 0
    output_tokens: int = 0
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime)


class BlobRecord(SQLModel, table=True):
    """File bytes (PNG, MP4, logos), content-addressed per tenant so a re-upload is stored once."""

    __tablename__ = "content_blobs"

    tenant_id: str = Field(primary_key=True, max_length=64)
    sha256: str = Field(primary_key=True, max_length=64)
    mime_type: str = Field(max_length=40)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class AiSettingsRecord(SQLModel, table=True):
    """A tenant's choice of text and image model provider (API keys live sealed in tenant_credentials)."""

    __tablename__ = "content_ai_settings"

    tenant_id: str = Field(primary_key=True, max_length=64)
    text_provider: str = Field(max_length=24)
    text_model: str = Field(max_length=80)
    image_provider: str = Field(max_length=24)
    image_model: str = Field(max_length=80)
    base_url: str | None = Field(default=None, max_length=300)
    # Separation of duties by default: an asset's generator may approve it only where the tenant allows it.
    allow_self_approval: bool = Field(default=False)
    updated_at: datetime = Field(sa_type=UTCDateTime)

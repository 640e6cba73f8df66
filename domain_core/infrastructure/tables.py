"""Platform tables shared by every context: audit log, idempotency records, outbox, processed events."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class AuditEntryRecord(SQLModel, table=True):
    """One audited mutation; ``hash`` chains it to the tenant's previous entry."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("tenant_id", "seq", name="uq_audit_log_tenant_seq"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    seq: int
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str = Field(max_length=128)
    actor_kind: str = Field(max_length=16)
    source: str = Field(max_length=16)
    action: str = Field(max_length=80)
    target_type: str = Field(max_length=40)
    target_id: str = Field(max_length=64)
    changes: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    request_id: str | None = Field(default=None, max_length=80)
    idempotency_key: str | None = Field(default=None, max_length=255)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHeadRecord(SQLModel, table=True):
    """The latest sequence number and hash of each tenant's chain; its row lock serialises appends."""

    __tablename__ = "audit_chain_heads"

    tenant_id: str = Field(primary_key=True, max_length=64)
    seq: int
    hash: str = Field(max_length=64)


class IdempotencyRecord(SQLModel, table=True):
    """The stored outcome of a mutating call, replayed when the same key is sent again."""

    __tablename__ = "idempotency_records"

    tenant_id: str = Field(primary_key=True, max_length=64)
    scope: str = Field(primary_key=True, max_length=80)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    # Set while paid work runs outside a transaction (model calls, rendering); cleared when the response is kept.
    holder: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class OutboxEventRecord(SQLModel, table=True):
    """A domain event written in the same transaction as the change it describes."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_pending", "tenant_id", "published_at", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    type: str = Field(max_length=80)
    payload: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0


class ProcessedEventRecord(SQLModel, table=True):
    """Consumer-side dedupe: an event id a consumer has already handled."""

    __tablename__ = "processed_events"

    tenant_id: str = Field(primary_key=True, max_length=64)
    consumer: str = Field(primary_key=True, max_length=80)
    event_id: str = Field(primary_key=True, max_length=40)
    processed_at: datetime = Field(sa_type=UTCDateTime)


class ConfirmationRecord(SQLModel, table=True):
    """A one-time token from a preview that a destructive or spending action must present to go ahead."""

    __tablename__ = "confirmation_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64)
    action: str = Field(max_length=80)
    target_id: str = Field(max_length=64)
    digest: str = Field(max_length=64, description="hash of what the preview showed; a changed target voids it")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TenantCredentialRecord(SQLModel, table=True):
    """A tenant's credentials for an external platform, sealed with AES-256-GCM (never stored in clear)."""

    __tablename__ = "tenant_credentials"

    tenant_id: str = Field(primary_key=True, max_length=64)
    provider: str = Field(primary_key=True, max_length=40)
    key_id: str = Field(max_length=32)
    sealed: str = Field(max_length=8000)
    label: str = Field(max_length=200, description="non-secret hint shown back, e.g. the client id's last 4")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

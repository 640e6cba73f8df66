"""Integrations persistence records: connections, OAuth states, routes, sync runs, external links, webhook receipts.

Every table carries ``tenant_id`` (RLS on Postgres). Credentials are not here: they are sealed in the shared
``tenant_credentials`` table (provider ``integrations.<platform>``). Routes answer the two questions that arrive
without a tenant (an OAuth callback's state, a webhook's platform account); a SECURITY DEFINER function answers
them across tenants on Postgres, and nothing else.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from promptsales.domain_core.infrastructure.sqltypes import JsonType, UTCDateTime


class ConnectionRecord(SQLModel, table=True):
    """A tenant's link to one platform (one per tenant and platform)."""

    __tablename__ = "integrations_connections"
    __table_args__ = (UniqueConstraint("tenant_id", "platform", name="uq_integrations_connection_platform"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    platform: str = Field(max_length=32)
    mode: str = Field(max_length=8, description="sandbox or live")
    status: str = Field(max_length=16, description="pending, connected, needs_reauth or disconnected")
    auth_kind: str = Field(max_length=24)
    account_id: str | None = Field(default=None, max_length=120, description="the platform's account/portal id")
    account_label: str | None = Field(default=None, max_length=200)
    url_parts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    watermarks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    connected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OAuthStateRecord(SQLModel, table=True):
    """An authorization the tenant started: single use, short-lived; the PKCE verifier is sealed."""

    __tablename__ = "integrations_oauth_states"

    state_hash: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64)
    platform: str = Field(max_length=32)
    connection_id: str = Field(max_length=40)
    actor_id: str = Field(max_length=128)
    sealed_verifier: str = Field(max_length=400)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RouteRecord(SQLModel, table=True):
    """Which tenant an inbound request belongs to: ``kind`` oauth_state (key: state hash) or account
    (key: ``platform:account id``)."""

    __tablename__ = "integrations_routes"

    kind: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=160)
    tenant_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class SyncRunRecord(SQLModel, table=True):
    """One sync of a connection and capability: where it is (resumable cursor), what it did, what failed."""

    __tablename__ = "integrations_sync_runs"
    __table_args__ = (
        Index("ix_integrations_sync_run_tenant_started", "tenant_id", "started_at", "id"),
        Index("ix_integrations_sync_run_connection", "tenant_id", "connection_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=64)
    connection_id: str = Field(max_length=40)
    platform: str = Field(max_length=32)
    capability: str = Field(max_length=24)
    status: str = Field(max_length=16, description="running, succeeded, partial or failed")
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[Any] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    error: str | None = Field(default=None, max_length=500)
    attempts: int = 1
    started_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExternalLinkRecord(SQLModel, table=True):
    """One platform object mapped to one local record, with what was last synced (for last-writer-wins)."""

    __tablename__ = "integrations_external_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "object_type", "local_id", name="uq_integrations_link_local"),
    )

    tenant_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(primary_key=True, max_length=32)
    object_type: str = Field(primary_key=True, max_length=24)
    external_id: str = Field(primary_key=True, max_length=120)
    local_id: str = Field(max_length=40)
    remote_modified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    synced_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookReceiptRecord(SQLModel, table=True):
    """A platform event already applied (platforms redeliver; each event applies once)."""

    __tablename__ = "integrations_webhook_receipts"

    # Per tenant: event ids are unique per platform app at best (sandbox simulators on each replica count from 1).
    tenant_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(primary_key=True, max_length=160)
    event_type: str = Field(max_length=80)
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=200)

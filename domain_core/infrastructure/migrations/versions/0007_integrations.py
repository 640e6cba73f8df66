"""integrations: connections, OAuth states, routes, sync runs, external links, webhook receipts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:02:40
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from promptsales.domain_core.infrastructure import rls
from promptsales.domain_core.infrastructure.sqltypes import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "integrations_connections",
    "integrations_oauth_states",
    "integrations_routes",
    "integrations_sync_runs",
    "integrations_external_links",
    "integrations_webhook_receipts",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "integrations_connections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auth_kind", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.String(length=120), nullable=True),
        sa.Column("account_label", sa.String(length=200), nullable=True),
        sa.Column("url_parts", _json(), nullable=False),
        sa.Column("watermarks", _json(), nullable=False),
        _moment("token_expires_at", nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        _moment("connected_at", nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "platform", name="uq_integrations_connection_platform"),
    )
    op.create_table(
        "integrations_oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("sealed_verifier", sa.String(length=400), nullable=False),
        _moment("expires_at"),
        _moment("used_at", nullable=True),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_table(
        "integrations_routes",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "integrations_sync_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("capability", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _moment("since", nullable=True),
        sa.Column("cursor", _json(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("failures", _json(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _moment("started_at"),
        _moment("heartbeat_at"),
        _moment("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("integrations_sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_integrations_sync_run_connection", ["tenant_id", "connection_id", "status"])
        batch_op.create_index("ix_integrations_sync_run_tenant_started", ["tenant_id", "started_at", "id"])
    op.create_table(
        "integrations_external_links",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=24), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("local_id", sa.String(length=40), nullable=False),
        _moment("remote_modified_at", nullable=True),
        sa.Column("fields", _json(), nullable=False),
        _moment("synced_at"),
        _moment("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "platform", "object_type", "external_id"),
        sa.UniqueConstraint("tenant_id", "platform", "object_type", "local_id", name="uq_integrations_link_local"),
    )
    op.create_table(
        "integrations_webhook_receipts",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        _moment("received_at"),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "platform", "event_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _tenancy_guards(context.config.attributes.get("app_role", "promptsales_app"))


def _tenancy_guards(role: str) -> None:
    for table in TENANT_TABLES:
        rls.grant_table(table, role)
        rls.enable_tenant_rls(table)
    # An OAuth callback names a state and a webhook names a platform account, not a tenant: this SECURITY DEFINER
    # function (run as the owner, whose scan-only policy is below) answers which tenant, and nothing else.
    op.execute("CREATE POLICY owner_route_scan ON integrations_routes FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(
        "CREATE FUNCTION promptsales_integration_route_tenant(route_kind text, route_key text) RETURNS text "
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS "
        "$$ SELECT tenant_id FROM integrations_routes WHERE kind = route_kind AND key = route_key $$"
    )
    op.execute("REVOKE ALL ON FUNCTION promptsales_integration_route_tenant(text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION promptsales_integration_route_tenant(text, text) TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS promptsales_integration_route_tenant(text, text)")
    op.drop_table("integrations_webhook_receipts")
    op.drop_table("integrations_external_links")
    with op.batch_alter_table("integrations_sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_integrations_sync_run_tenant_started")
        batch_op.drop_index("ix_integrations_sync_run_connection")
    op.drop_table("integrations_sync_runs")
    op.drop_table("integrations_routes")
    op.drop_table("integrations_oauth_states")
    op.drop_table("integrations_connections")

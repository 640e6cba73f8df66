"""campaigns: campaigns, transitions, platform objects, changes, spend caps, touches

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from promptsales.domain_core.infrastructure import rls
from promptsales.domain_core.infrastructure.sqltypes import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "campaigns_campaigns",
    "campaigns_transitions",
    "campaigns_objects",
    "campaigns_changes",
    "campaigns_spend_caps",
    "campaigns_touches",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns_campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("objective", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("product", sa.String(length=500), nullable=False),
        sa.Column("industry", sa.String(length=80), nullable=True),
        sa.Column("special_ad_category", sa.String(length=20), nullable=False),
        sa.Column("product_category", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("budget_total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("budget_daily", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("landing_url", sa.String(length=2000), nullable=False),
        sa.Column("segment_id", sa.String(length=40), nullable=True),
        sa.Column("markets", _json(), nullable=False),
        sa.Column("schedule", _json(), nullable=False),
        sa.Column("channels", _json(), nullable=False),
        sa.Column("kpis", _json(), nullable=False),
        sa.Column("forecast", _json(), nullable=False),
        sa.Column("assumptions", _json(), nullable=False),
        sa.Column("influencers", _json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        _moment("activated_at", nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaigns_campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_tenant_status", ["tenant_id", "status", "id"], unique=False)

    op.create_table(
        "campaigns_changes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("before", _json(), nullable=False),
        sa.Column("after", _json(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("rolled_back_by", sa.String(length=40), nullable=True),
        _moment("at"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaigns_changes", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_changes_campaign", ["tenant_id", "campaign_id", "at"], unique=False)

    op.create_table(
        "campaigns_objects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("local_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("platform_id", sa.String(length=200), nullable=True),
        sa.Column("parent_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("daily_budget", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("bid", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("creative_id", sa.String(length=40), nullable=True),
        sa.Column("tracking", _json(), nullable=False),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "campaign_id", "local_key", name="uq_campaigns_object_key"),
    )
    with op.batch_alter_table("campaigns_objects", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_objects_platform", ["tenant_id", "platform", "platform_id"], unique=False)

    op.create_table(
        "campaigns_spend_caps",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("per_campaign", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("per_day", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("per_month", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("max_change_factor", sa.Numeric(precision=6, scale=2), nullable=False),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "campaigns_touches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ad_ref", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("new_person", sa.Boolean(), nullable=False),
        _moment("occurred_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_campaigns_touch_event"),
    )
    with op.batch_alter_table("campaigns_touches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaigns_touches_campaign", ["tenant_id", "campaign_id", "occurred_at"], unique=False
        )

    op.create_table(
        "campaigns_transitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_kind", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        _moment("at"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaigns_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_transitions_campaign", ["tenant_id", "campaign_id", "at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _tenancy_guards(context.config.attributes.get("app_role", "promptsales_app"))


def _tenancy_guards(role: str) -> None:
    for table in TENANT_TABLES:
        rls.grant_table(table, role)
        rls.enable_tenant_rls(table)


def downgrade() -> None:
    with op.batch_alter_table("campaigns_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_transitions_campaign")

    op.drop_table("campaigns_transitions")
    with op.batch_alter_table("campaigns_touches", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_touches_campaign")

    op.drop_table("campaigns_touches")
    op.drop_table("campaigns_spend_caps")
    with op.batch_alter_table("campaigns_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_objects_platform")

    op.drop_table("campaigns_objects")
    with op.batch_alter_table("campaigns_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_changes_campaign")

    op.drop_table("campaigns_changes")
    with op.batch_alter_table("campaigns_campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_tenant_status")

    op.drop_table("campaigns_campaigns")

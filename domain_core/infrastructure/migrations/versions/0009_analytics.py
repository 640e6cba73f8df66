"""analytics: performance, touchpoints, conversions, pulls, experiments, assignments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:51:36
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from promptsales.domain_core.infrastructure import rls
from promptsales.domain_core.infrastructure.sqltypes import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "analytics_performance",
    "analytics_touchpoints",
    "analytics_conversions",
    "analytics_pulls",
    "analytics_experiments",
    "analytics_assignments",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "analytics_assignments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.String(length=40), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        _moment("assigned_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "experiment_id", "unit_id", name="uq_analytics_assignment_unit"),
    )
    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_assignment_variant", ["tenant_id", "experiment_id", "variant"], unique=False
        )

    op.create_table(
        "analytics_conversions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        _moment("occurred_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "lead_id", "stage", name="uq_analytics_conversion_stage"),
    )
    with op.batch_alter_table("analytics_conversions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_conversion_contact", ["tenant_id", "contact_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_analytics_conversion_day", ["tenant_id", "stage", "occurred_at"], unique=False)

    op.create_table(
        "analytics_experiments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=True),
        sa.Column("variants", _json(), nullable=False),
        sa.Column("primary_metric", sa.String(length=32), nullable=False),
        sa.Column("guardrails", _json(), nullable=False),
        sa.Column("design", _json(), nullable=False),
        sa.Column("looks", _json(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("verdict", _json(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _moment("started_at"),
        _moment("ended_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analytics_experiments", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_experiments_status", ["tenant_id", "status", "id"], unique=False)

    op.create_table(
        "analytics_performance",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("object_kind", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("object_name", sa.String(length=200), nullable=False),
        sa.Column("ad_ref", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("spend", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("conversions", sa.Float(), nullable=False),
        sa.Column("conversion_value", sa.Numeric(precision=14, scale=2), nullable=False),
        _moment("pulled_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "platform", "object_id", "day", name="uq_analytics_performance_day"),
    )
    with op.batch_alter_table("analytics_performance", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_performance_campaign", ["tenant_id", "campaign_id", "day"], unique=False)
        batch_op.create_index("ix_analytics_performance_day", ["tenant_id", "day"], unique=False)

    op.create_table(
        "analytics_pulls",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=True),
        _moment("last_run_at"),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("errors", _json(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "campaign_id"),
    )
    op.create_table(
        "analytics_touchpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=40), nullable=False),
        sa.Column("lead_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=True),
        sa.Column("ad_ref", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        _moment("occurred_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_analytics_touch_event"),
    )
    with op.batch_alter_table("analytics_touchpoints", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_touch_campaign", ["tenant_id", "campaign_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_analytics_touch_contact", ["tenant_id", "contact_id", "occurred_at"], unique=False)

    with op.batch_alter_table("crm_interactions", schema=None) as batch_op:
        batch_op.alter_column("transcript", existing_type=sa.TEXT(), type_=sa.String(), existing_nullable=True)

    if op.get_bind().dialect.name == "postgresql":
        _tenancy_guards(context.config.attributes.get("app_role", "promptsales_app"))


def _tenancy_guards(role: str) -> None:
    for table in TENANT_TABLES:
        rls.grant_table(table, role)
        rls.enable_tenant_rls(table)


def downgrade() -> None:
    with op.batch_alter_table("crm_interactions", schema=None) as batch_op:
        batch_op.alter_column("transcript", existing_type=sa.String(), type_=sa.TEXT(), existing_nullable=True)

    with op.batch_alter_table("analytics_touchpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_touch_contact")
        batch_op.drop_index("ix_analytics_touch_campaign")

    op.drop_table("analytics_touchpoints")
    op.drop_table("analytics_pulls")
    with op.batch_alter_table("analytics_performance", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_performance_day")
        batch_op.drop_index("ix_analytics_performance_campaign")

    op.drop_table("analytics_performance")
    with op.batch_alter_table("analytics_experiments", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_experiments_status")

    op.drop_table("analytics_experiments")
    with op.batch_alter_table("analytics_conversions", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_conversion_day")
        batch_op.drop_index("ix_analytics_conversion_contact")

    op.drop_table("analytics_conversions")
    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_assignment_variant")

    op.drop_table("analytics_assignments")

"""content review: whether an asset's generator may approve it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Separation of duties is the default: existing tenants keep requiring a different approver.
    with op.batch_alter_table("content_ai_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allow_self_approval", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("content_ai_settings", schema=None) as batch_op:
        batch_op.drop_column("allow_self_approval")

"""crm natural keys: one organization per domain; folded names for finding companies

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 01:30:00

Organizations get a per-tenant unique index on the domain (where set), so concurrent get-or-creates cannot
make two of one company, and ``name_key`` (the name case-folded, spaces collapsed, indexed) by which
captures find a company. Duplicate domains made before (the race this closes) are merged first: the
oldest organization of each domain stays, and contacts of the others are moved to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_KEY_LENGTH = 200
# Within one tenant, the oldest row (ids are time-ordered) of each natural key keeps it.
_DUPLICATE = (
    "domain IS NOT NULL AND EXISTS (SELECT 1 FROM crm_organizations k WHERE k.tenant_id = o.tenant_id "
    "AND k.domain = o.domain AND k.id < o.id)"
)
_KEEPER = "SELECT MIN(k.id) FROM crm_organizations k WHERE k.tenant_id = o.tenant_id AND k.domain = o.domain"


def _name_key(name: str) -> str:
    """A frozen copy of identity.organization_key as of this revision (migrations must not change later)."""
    return " ".join(name.casefold().split())[:NAME_KEY_LENGTH]


def _backfill_name_keys() -> None:
    if context.is_offline_mode():
        op.execute(f"UPDATE crm_organizations SET name_key = substr(lower(trim(name)), 1, {NAME_KEY_LENGTH})")
        return
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, name FROM crm_organizations")).all()
    if rows:
        connection.execute(
            sa.text("UPDATE crm_organizations SET name_key = :key WHERE id = :id"),
            [{"id": row.id, "key": _name_key(row.name)} for row in rows],
        )


def _merge_duplicate_domains() -> None:
    """Point contacts of organizations sharing a domain at the oldest one, then delete the others."""
    op.execute(
        "UPDATE crm_contacts SET organization_id = ("
        f"SELECT ({_KEEPER}) FROM crm_organizations o WHERE o.id = crm_contacts.organization_id) "
        f"WHERE organization_id IN (SELECT o.id FROM crm_organizations o WHERE {_DUPLICATE})"
    )
    op.execute(f"DELETE FROM crm_organizations WHERE id IN (SELECT o.id FROM crm_organizations o WHERE {_DUPLICATE})")


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        # Forced row-level security would hide every tenant's rows from the owner running this migration.
        for table in ("crm_organizations", "crm_contacts"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table("crm_organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=NAME_KEY_LENGTH), nullable=True))
    _backfill_name_keys()
    _merge_duplicate_domains()
    with op.batch_alter_table("crm_organizations", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_org_tenant_name")
        batch_op.drop_index("ix_crm_org_tenant_domain")
        batch_op.alter_column("name_key", existing_type=sa.String(length=NAME_KEY_LENGTH), nullable=False)
    with op.batch_alter_table("crm_organizations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_crm_org_domain",
            ["tenant_id", "domain"],
            unique=True,
            postgresql_where=sa.text("domain IS NOT NULL"),
            sqlite_where=sa.text("domain IS NOT NULL"),
        )
        batch_op.create_index("ix_crm_org_tenant_name_key", ["tenant_id", "name_key"], unique=False)
    if postgres:
        for table in ("crm_organizations", "crm_contacts"):
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    with op.batch_alter_table("crm_organizations", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_org_tenant_name_key")
        batch_op.drop_index(
            "uq_crm_org_domain",
            postgresql_where=sa.text("domain IS NOT NULL"),
            sqlite_where=sa.text("domain IS NOT NULL"),
        )
    with op.batch_alter_table("crm_organizations", schema=None) as batch_op:
        batch_op.drop_column("name_key")
        batch_op.create_index("ix_crm_org_tenant_domain", ["tenant_id", "domain"], unique=False)
        batch_op.create_index("ix_crm_org_tenant_name", ["tenant_id", "name"], unique=False)

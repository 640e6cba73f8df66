"""Postgres tenancy guards used by migrations: the app role, its grants and row-level security."""

import re

from alembic import op

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TENANT_SETTING = "app.tenant_id"


def _checked(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return name


def ensure_app_role(role: str) -> None:
    """Create the non-owner login role the application runs as (roles are cluster-wide)."""
    role = _checked(role)
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")


def grant_table(table: str, role: str, *, append_only: bool = False) -> None:
    """Give the app role DML on ``table``; append-only tables (the audit log) get no UPDATE/DELETE."""
    privileges = "SELECT, INSERT" if append_only else "SELECT, INSERT, UPDATE, DELETE"
    op.execute(f"GRANT {privileges} ON {_checked(table)} TO {_checked(role)}")


def enable_tenant_rls(table: str) -> None:
    """Enable and force RLS so even the table owner sees only the current transaction's tenant."""
    table = _checked(table)
    predicate = f"tenant_id = current_setting('{TENANT_SETTING}', true)"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})")

"""CRM natural keys on Postgres and SQLite: unique per tenant in the schema, merged on upgrade, race-safe.

The migration gives organizations a unique domain per tenant (old duplicates are merged into the oldest);
concurrent captures and creates then make one organization and one contact per key, with no failures
handed to the caller.
"""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command

from promptsales.domain_core.crm.bootstrap import build_crm
from promptsales.domain_core.crm.commands import CaptureLead, CreateOrganization
from promptsales.domain_core.crm.dto import CaptureResult, OrganizationView
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.crm.tables import ContactRecord, LeadTouchRecord, OrganizationRecord
from promptsales.domain_core.infrastructure.schema import alembic_config, upgrade_to_head
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.errors import Conflict
from tests.integration.conftest import (
    Backend,
    PostgresServer,
    caller_for,
    count_rows,
    new_tenant,
    owner_connect,
    pg_url,
)

WRITERS = 20
INSERT_ORG = (
    "INSERT INTO crm_organizations (id, tenant_id, name, name_key, domain, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
)
INSERT_ORG_0004 = (
    "INSERT INTO crm_organizations (id, tenant_id, name, domain, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
)
INSERT_CONTACT = (
    "INSERT INTO crm_contacts (id, tenant_id, organization_id, email, attributes, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, '{}', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
)


def refused(backend: Backend, statement: str, params: tuple[Any, ...]) -> bool:
    """Whether the database refuses the insert as a unique violation."""
    try:
        backend.owner_execute(statement, params)
    except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation):
        return True
    return False


def test_the_schema_refuses_a_second_organization_with_a_domain_per_tenant(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    backend.owner_execute(INSERT_ORG, ("org_a", tenant, "Acme", "acme", "acme.com"))
    assert refused(backend, INSERT_ORG, ("org_b", tenant, "Acme Two", "acme two", "acme.com"))
    assert not refused(backend, INSERT_ORG, ("org_c", other, "Acme", "acme", "acme.com"))  # another tenant
    # Names are not keys: namesakes without a domain are allowed.
    assert not refused(backend, INSERT_ORG, ("org_d", tenant, "Nameless", "nameless", None))
    assert not refused(backend, INSERT_ORG, ("org_e", tenant, "Nameless", "nameless", None))


def _seed_duplicates(execute: Any) -> None:
    """Organizations (schema 0004) that share a domain, as the race 0005 closes made them, with contacts."""
    for row in (
        ("org_1", "t1", "Acme", "acme.com"),
        ("org_2", "t1", "ACME Inc", "acme.com"),
        ("org_3", "t2", "Acme", "acme.com"),
        ("org_4", "t1", "Straße  GmbH", None),
    ):
        execute(INSERT_ORG_0004, row)
    execute(INSERT_CONTACT, ("ct_1", "t1", "org_1", "a@acme.com"))
    execute(INSERT_CONTACT, ("ct_2", "t1", "org_2", "b@acme.com"))


def _check_merged(rows: Any) -> None:
    organizations, contacts = rows
    assert organizations == [
        ("org_1", "t1", "acme"),
        ("org_3", "t2", "acme"),
        ("org_4", "t1", "strasse gmbh"),
    ]
    assert contacts == [("ct_1", "org_1"), ("ct_2", "org_1")]


def test_upgrading_sqlite_merges_organizations_that_share_a_domain(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0004")
    with sqlite3.connect(path) as connection:
        _seed_duplicates(connection.execute)
    upgrade_to_head(url)
    with sqlite3.connect(path) as connection:
        organizations = connection.execute(
            "SELECT id, tenant_id, name_key FROM crm_organizations ORDER BY id"
        ).fetchall()
        contacts = connection.execute("SELECT id, organization_id FROM crm_contacts ORDER BY id").fetchall()
    _check_merged((organizations, contacts))


@pytest.mark.postgres
def test_upgrading_postgres_merges_organizations_that_share_a_domain(postgres_server: PostgresServer) -> None:
    database = postgres_server.create_database(migrate=False)
    command.upgrade(alembic_config(pg_url(database)), "0004")
    with owner_connect(database) as owner:
        _seed_duplicates(lambda statement, params: owner.execute(statement.replace("?", "%s"), params))
    upgrade_to_head(pg_url(database))
    with owner_connect(database) as owner:
        organizations = owner.execute("SELECT id, tenant_id, name_key FROM crm_organizations ORDER BY id").fetchall()
        contacts = owner.execute("SELECT id, organization_id FROM crm_contacts ORDER BY id").fetchall()
        forced = owner.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname IN ('crm_organizations', 'crm_contacts')"
        ).fetchall()
    _check_merged((organizations, contacts))
    assert forced == [(True,), (True,)]  # row-level security is forced again after the merge


# ------------------------------------------------------------------------------ concurrent writers


def capture(email: str, **fields: Any) -> CaptureLead:
    return CaptureLead(source_channel="web_form", email=email, **fields)


async def together(crm: CrmFacade, tenant: str, commands: list[CaptureLead]) -> list[CaptureResult | BaseException]:
    """Run the captures at once; failures are returned, not raised."""
    return await asyncio.gather(
        *(crm.capture_lead(caller_for(tenant), one) for one in commands), return_exceptions=True
    )


@pytest.mark.postgres
async def test_concurrent_creates_with_one_domain_make_one_organization(pg_uow: UnitOfWorkFactory) -> None:
    crm, tenant = build_crm(pg_uow), new_tenant()
    results = await asyncio.gather(
        *(
            crm.create_organization(caller_for(tenant), CreateOrganization(name=f"Acme {i}", domain="acme.com"))
            for i in range(WRITERS)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, OrganizationView)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1 and len(conflicts) == WRITERS - 1, results
    assert all(c.field == "domain" and created[0].id in c.message for c in conflicts)
    assert await count_rows(pg_uow, tenant, OrganizationRecord) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("domain", ["widgets.example", None])
async def test_concurrent_captures_of_one_new_company_make_one_organization(
    pg_uow: UnitOfWorkFactory, domain: str | None
) -> None:
    crm, tenant = build_crm(pg_uow), new_tenant()
    results = await together(
        crm,
        tenant,
        [capture(f"p{i}@widgets.example", company="Widgets", company_domain=domain) for i in range(WRITERS)],
    )
    assert all(isinstance(r, CaptureResult) for r in results), results
    organizations = {r.contact.organization_id for r in results if isinstance(r, CaptureResult)}
    assert len(organizations) == 1 and None not in organizations
    assert await count_rows(pg_uow, tenant, OrganizationRecord) == 1
    assert await count_rows(pg_uow, tenant, ContactRecord) == WRITERS


@pytest.mark.postgres
async def test_concurrent_captures_of_one_person_make_one_contact_and_every_touch(pg_uow: UnitOfWorkFactory) -> None:
    crm, tenant = build_crm(pg_uow), new_tenant()
    results = await together(
        crm, tenant, [capture("same@acme.example", company="Acme", company_domain="acme.example")] * WRITERS
    )
    assert all(isinstance(r, CaptureResult) for r in results), results
    captured = [r for r in results if isinstance(r, CaptureResult)]
    assert sum(r.created for r in captured) == 1
    assert len({r.contact.id for r in captured}) == 1
    assert len({r.lead.id for r in captured}) == 1
    assert max(r.lead.touch_count for r in captured) == WRITERS
    assert await count_rows(pg_uow, tenant, ContactRecord) == 1
    assert await count_rows(pg_uow, tenant, LeadTouchRecord) == WRITERS

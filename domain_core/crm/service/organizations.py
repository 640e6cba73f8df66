"""Organizations: create (one per domain), find or create for a captured company, search, read."""

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import CreateOrganization
from promptsales.domain_core.crm.dto import OrganizationPage, OrganizationView
from promptsales.domain_core.crm.model.identity import (
    normalize_country,
    normalize_domain,
    normalize_industry,
    organization_key,
)
from promptsales.domain_core.crm.service import views
from promptsales.domain_core.crm.tables import OrganizationRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import decode_cursor, encode_cursor

LOOKUP_TOOL = "crm_search_organizations"


def _new_record(
    uow: UnitOfWork,
    *,
    name: str,
    domain: str | None,
    industry: str | None,
    employee_count: int | None,
    country: str | None,
    region: str | None,
) -> OrganizationRecord:
    return OrganizationRecord(
        id=new_id("org"),
        tenant_id=uow.tenant_id,
        name=name,
        name_key=organization_key(name),
        domain=domain,
        industry=industry,
        employee_count=employee_count,
        country=country,
        region=region,
        created_at=uow.now,
        updated_at=uow.now,
    )


def _domain_taken(existing: OrganizationRecord) -> Conflict:
    """The error for a second organization with a taken domain."""
    return Conflict(
        f"An organization with domain '{existing.domain}' already exists ({existing.id}).",
        field="domain",
        hint=f"Use organization_id '{existing.id}'.",
    )


async def create_organization(uow: UnitOfWork, command: CreateOrganization) -> OrganizationView:
    """Create an organization; a domain must not be taken (race-safe); names may repeat."""
    name = command.name.strip()
    if not name:
        raise ValidationFailed("name must contain visible characters.", field="name")
    record = _new_record(
        uow,
        name=name,
        domain=normalize_domain(command.domain),
        industry=normalize_industry(command.industry),
        employee_count=command.employee_count,
        country=normalize_country(command.country) if command.country else None,
        region=command.region,
    )
    stored = await repo.organizations.insert_new(uow, record)
    if stored is None:
        existing = await repo.organizations.with_domain(uow, record.domain or "")
        if existing is None:  # the row that blocked ours was rolled back between the two statements
            raise Conflict("The domain changed while the organization was created.", field="domain", hint="Retry.")
        raise _domain_taken(existing)
    view = views.organization_view(stored)
    uow.audit(
        "crm.create_organization",
        target_type="organization",
        target_id=stored.id,
        after=view.model_dump(mode="json", exclude={"id", "created_at"}),
    )
    uow.emit("crm.organization_created", {"organization_id": stored.id})
    return view


async def for_company(
    uow: UnitOfWork,
    *,
    company: str,
    domain: str | None,
    industry: str | None,
    employee_count: int | None,
    country: str | None,
) -> OrganizationRecord:
    """The organization of a captured company: found by domain, else name, and its gaps filled; else created.

    Concurrent captures of one new company create it once: they take the name's lock in turn, and an
    insert that loses on the domain waits for the winner and reads its row.
    """
    name_key = organization_key(company)
    await repo.organizations.lock_name(uow, name_key)
    found = await repo.organizations.for_company(uow, name_key=name_key, domain=domain)
    if found is None:
        record = _new_record(
            uow,
            name=company.strip(),
            domain=domain,
            industry=industry,
            employee_count=employee_count,
            country=country,
            region=None,
        )
        stored = await repo.organizations.insert_new(uow, record)
        if stored is not None:
            uow.audit(
                "crm.create_organization",
                target_type="organization",
                target_id=stored.id,
                after={"name": stored.name, "domain": domain, "via": "crm_capture_lead"},
            )
            return stored
        found = await repo.organizations.for_company(uow, name_key=name_key, domain=domain)
        if found is None:
            raise Conflict("The organization changed while the lead was captured.", field="company", hint="Retry.")
    changed = False
    for name, value in (("industry", industry), ("employee_count", employee_count), ("country", country)):
        if value is not None and getattr(found, name) is None:
            setattr(found, name, value)
            changed = True
    if changed:
        found.updated_at = uow.now
        await repo.organizations.save(uow, found)
    return found


async def organization(uow: UnitOfWork, org_id: str, *, field: str = "organization_id") -> OrganizationRecord:
    """An organization or NotFound."""
    record = await repo.organizations.get(uow, org_id)
    if record is None:
        raise NotFound("organization", org_id, field=field, lookup=LOOKUP_TOOL)
    return record


async def search(
    uow: UnitOfWork, *, text: str | None, domain: str | None, cursor: str | None, limit: int
) -> OrganizationPage:
    """Organizations by name or domain text, in creation order, with a cursor."""
    scope = {"text": text, "domain": domain}
    position = decode_cursor(cursor, "organizations", scope)
    rows = await repo.organizations.search(
        uow,
        text=text,
        domain=normalize_domain(domain),
        after_id=str(position[0]) if position else None,
        limit=limit + 1,
    )
    next_cursor = encode_cursor("organizations", scope, [rows[limit - 1].id]) if len(rows) > limit else None
    return OrganizationPage(items=[views.organization_view(r) for r in rows[:limit]], next_cursor=next_cursor)

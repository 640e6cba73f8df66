"""Organizations and contacts: create, read, update, search, merge."""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import ConsentInput, ContactSummary, ContactView, OrganizationView
from promptsales.domain_core.crm.model.identity import (
    normalize_country,
    normalize_email,
    normalize_person,
    normalize_phone,
)
from promptsales.domain_core.crm.service import views
from promptsales.domain_core.crm.tables import (
    ConsentEventRecord,
    ContactRecord,
    ContactTagRecord,
    FlowRunRecord,
    InteractionRecord,
    LeadRecord,
    OrganizationRecord,
)
from promptsales.domain_core.infrastructure.audit import summarize_changes
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor

CONTACT_FIELDS = ("first_name", "last_name", "title", "region", "owner")


async def create_organization(
    uow: UnitOfWork,
    *,
    name: str,
    domain: str | None = None,
    industry: str | None = None,
    employee_count: int | None = None,
    country: str | None = None,
    region: str | None = None,
) -> OrganizationView:
    """Create an organization; a second one with the same domain is a conflict."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name must contain visible characters.", field="name")
    domain = domain.strip().lower() if domain else None
    if domain:
        existing = await repo.find_organization(uow.session, uow.tenant_id, name=name, domain=domain)
        if existing is not None and existing.domain == domain:
            raise Conflict(
                f"An organization with domain '{domain}' already exists ({existing.id}).",
                field="domain",
                hint="Use the existing organization_id.",
            )
    record = OrganizationRecord(
        id=new_id("org"),
        tenant_id=uow.tenant_id,
        name=name,
        domain=domain,
        industry=industry.strip().lower() if industry else None,
        employee_count=employee_count,
        country=normalize_country(country) if country else None,
        region=region,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(record)
    view = views.organization_view(record)
    uow.audit(
        "crm.create_organization",
        target_type="organization",
        target_id=record.id,
        after=view.model_dump(mode="json", exclude={"id", "created_at"}),
    )
    uow.emit("crm.organization_created", {"organization_id": record.id})
    return view


async def get_organization_record(
    uow: UnitOfWork, org_id: str, *, field: str = "organization_id"
) -> OrganizationRecord:
    """An organization or NotFound."""
    record = await repo.get_organization(uow.session, uow.tenant_id, org_id)
    if record is None:
        raise NotFound("organization", org_id, field=field)
    return record


async def load_contact(
    uow: UnitOfWork, contact_id: str, *, for_update: bool = False, field: str = "contact_id"
) -> ContactRecord:
    """A contact or NotFound (merged contacts are returned; callers decide)."""
    record = await repo.get_contact(uow.session, uow.tenant_id, contact_id, for_update=for_update)
    if record is None:
        raise NotFound("contact", contact_id, field=field)
    return record


async def active_contact(uow: UnitOfWork, contact_id: str, *, field: str = "contact_id") -> ContactRecord:
    """A contact that has not been merged away, following nothing: merged ids get a pointed error."""
    record = await load_contact(uow, contact_id, for_update=True, field=field)
    if record.merged_into_id:
        raise Conflict(
            f"contact '{contact_id}' was merged into '{record.merged_into_id}'.",
            field=field,
            hint=f"Use contact_id '{record.merged_into_id}'.",
        )
    return record


async def contact_dto(uow: UnitOfWork, contact: ContactRecord) -> ContactView:
    """Full DTO of a contact, with tags and consent provenance."""
    tags = (await repo.tags_by_contact(uow.session, uow.tenant_id, [contact.id]))[contact.id]
    sources = await repo.consent_sources(uow.session, uow.tenant_id, contact.id)
    return views.contact_view(contact, tags, sources)


def apply_consent(
    uow: UnitOfWork, contact: ContactRecord, consent: ConsentInput | None, *, default_source: str
) -> None:
    """Set consent columns and append consent history for each channel given."""
    if consent is None:
        return
    for channel in ("email", "sms", "whatsapp"):
        grant = getattr(consent, channel)
        if grant is None:
            continue
        status = "granted" if grant.granted else "revoked"
        setattr(contact, f"consent_{channel}", status)
        uow.session.add(
            ConsentEventRecord(
                id=new_id("cns"),
                tenant_id=uow.tenant_id,
                contact_id=contact.id,
                channel=channel,
                status=status,
                source=grant.source or default_source,
                recorded_at=as_utc(grant.at, field=f"consent.{channel}.at") if grant.at else uow.now,
            )
        )


async def _ensure_unique(uow: UnitOfWork, *, email: str | None, phone: str | None, exclude_id: str | None) -> None:
    existing = await repo.find_contact(uow.session, uow.tenant_id, email=email, phone=None)
    if existing is not None and existing.id != exclude_id:
        raise Conflict(
            f"A contact with email '{email}' already exists ({existing.id}).",
            field="email",
            hint="Update that contact, or merge the two with merge_contacts.",
        )
    existing = await repo.find_contact(uow.session, uow.tenant_id, email=None, phone=phone)
    if existing is not None and existing.id != exclude_id:
        raise Conflict(
            f"A contact with phone '{phone}' already exists ({existing.id}).",
            field="phone",
            hint="Update that contact, or merge the two with merge_contacts.",
        )


async def create_contact(
    uow: UnitOfWork,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    title: str | None = None,
    organization_id: str | None = None,
    country: str | None = None,
    region: str | None = None,
    owner: str | None = None,
    tags: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    consent: ConsentInput | None = None,
) -> ContactView:
    """Create a person; email or phone must be unique among active contacts."""
    if not (email or phone or first_name or last_name):
        raise ValidationFailed("A contact needs at least an email, a phone or a name.", field="email")
    norm_email, norm_phone, country_code = normalize_person(email=email, phone=phone, country=country)
    await _ensure_unique(uow, email=norm_email, phone=norm_phone, exclude_id=None)
    if organization_id:
        await get_organization_record(uow, organization_id)
    contact = ContactRecord(
        id=new_id("ct"),
        tenant_id=uow.tenant_id,
        organization_id=organization_id,
        first_name=first_name,
        last_name=last_name,
        email=norm_email,
        phone=norm_phone,
        title=title,
        country=country_code,
        region=region,
        owner=owner,
        attributes=dict(attributes or {}),
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(contact)
    uow.meter("contacts")
    apply_consent(uow, contact, consent, default_source="create_contact")
    await repo.replace_tags(uow.session, uow.tenant_id, contact.id, tags or [])
    await uow.session.flush()
    uow.audit(
        "crm.create_contact",
        target_type="contact",
        target_id=contact.id,
        after=views.contact_audit_fields(contact, sorted(set(tags or []))),
    )
    uow.emit("crm.contact_created", {"contact_id": contact.id})
    return await contact_dto(uow, contact)


async def update_contact(
    uow: UnitOfWork, *, contact_id: str, changes: dict[str, Any], consent: ConsentInput | None = None
) -> ContactView:
    """Apply a partial update; only the keys present in ``changes`` are touched."""
    contact = await active_contact(uow, contact_id)
    tags_before = (await repo.tags_by_contact(uow.session, uow.tenant_id, [contact.id]))[contact.id]
    before = views.contact_audit_fields(contact, tags_before)
    country = changes.get("country", contact.country)
    if "country" in changes:
        contact.country = normalize_country(country) if country else None
    if "email" in changes:
        contact.email = normalize_email(changes["email"]) if changes["email"] else None
    if "phone" in changes:
        contact.phone = normalize_phone(changes["phone"], country=contact.country) if changes["phone"] else None
    if "email" in changes or "phone" in changes:
        await _ensure_unique(uow, email=contact.email, phone=contact.phone, exclude_id=contact.id)
    if changes.get("organization_id"):
        await get_organization_record(uow, changes["organization_id"])
    if "organization_id" in changes:
        contact.organization_id = changes["organization_id"]
    for name in CONTACT_FIELDS:
        if name in changes:
            setattr(contact, name, changes[name])
    if "attributes" in changes:
        merged = dict(contact.attributes)
        for key, value in (changes["attributes"] or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact.attributes = merged
    tags_after = tags_before
    if "tags" in changes:
        tags_after = sorted(set(changes["tags"] or []))
        await repo.replace_tags(uow.session, uow.tenant_id, contact.id, tags_after)
    apply_consent(uow, contact, consent, default_source="update_contact")
    contact.updated_at = uow.now
    uow.session.add(contact)
    await uow.session.flush()
    uow.audit(
        "crm.update_contact",
        target_type="contact",
        target_id=contact.id,
        before=before,
        after=views.contact_audit_fields(contact, tags_after),
    )
    uow.emit("crm.contact_updated", {"contact_id": contact.id, "fields": sorted(changes)})
    return await contact_dto(uow, contact)


async def search_contacts(
    uow: UnitOfWork, *, text: str | None, filters: dict[str, Any], cursor: str | None, limit: int
) -> Page[ContactSummary]:
    """Active contacts by free text and filters, in id order with a cursor."""
    scope_filters = {"text": text, **filters}
    position = decode_cursor(cursor, "contacts", scope_filters)
    rows = await repo.search_contacts(
        uow.session,
        uow.tenant_id,
        text=text,
        filters=filters,
        after_id=str(position[0]) if position else None,
        limit=limit + 1,
    )
    items = [views.contact_summary(r) for r in rows[:limit]]
    next_cursor = encode_cursor("contacts", scope_filters, [rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def merge_contacts(uow: UnitOfWork, *, survivor_id: str, duplicate_id: str) -> ContactView:
    """Fold ``duplicate`` into ``survivor``: re-point leads, interactions, flow runs, tags, consent history."""
    if survivor_id == duplicate_id:
        raise ValidationFailed("survivor_id and duplicate_id must differ.", field="duplicate_id")
    survivor = await active_contact(uow, survivor_id, field="survivor_id")
    duplicate = await active_contact(uow, duplicate_id, field="duplicate_id")
    tenant = uow.tenant_id
    tags = await repo.tags_by_contact(uow.session, tenant, [survivor.id, duplicate.id])
    before = views.contact_audit_fields(survivor, tags[survivor.id])
    moved: dict[str, int] = {}
    for table, name in (
        (LeadRecord, "leads"),
        (InteractionRecord, "interactions"),
        (FlowRunRecord, "flow_runs"),
        (ConsentEventRecord, "consent_events"),
    ):
        result = await uow.session.execute(
            update(table)
            .where(col(table.tenant_id) == tenant, col(table.contact_id) == duplicate.id)
            .values(contact_id=survivor.id)
        )
        moved[name] = int(getattr(result, "rowcount", 0) or 0)
    merged_tags = sorted(set(tags[survivor.id]) | set(tags[duplicate.id]))
    await repo.replace_tags(uow.session, tenant, survivor.id, merged_tags)
    # The duplicate's tags now live on the survivor.
    await uow.session.execute(
        delete(ContactTagRecord).where(
            col(ContactTagRecord.tenant_id) == tenant, col(ContactTagRecord.contact_id) == duplicate.id
        )
    )
    # The survivor keeps its own values and fills its gaps from the duplicate (history is never dropped).
    dup_email, dup_phone = duplicate.email, duplicate.phone
    duplicate.merged_into_id = survivor.id
    duplicate.updated_at = uow.now
    uow.meter("contacts", -1)
    uow.session.add(duplicate)
    await uow.session.flush()
    for name in (
        "first_name",
        "last_name",
        "title",
        "country",
        "region",
        "owner",
        "organization_id",
        "consent_email",
        "consent_sms",
        "consent_whatsapp",
        "last_activity_at",
    ):
        if getattr(survivor, name) is None and getattr(duplicate, name) is not None:
            setattr(survivor, name, getattr(duplicate, name))
    if survivor.email is None:
        survivor.email = dup_email
    if survivor.phone is None:
        survivor.phone = dup_phone
    if (
        duplicate.last_activity_at
        and survivor.last_activity_at
        and duplicate.last_activity_at > survivor.last_activity_at
    ):
        survivor.last_activity_at = duplicate.last_activity_at
    survivor.attributes = {**duplicate.attributes, **survivor.attributes}
    survivor.updated_at = uow.now
    uow.session.add(survivor)
    await uow.session.flush()
    uow.audit(
        "crm.merge_contacts",
        target_type="contact",
        target_id=survivor.id,
        changes={
            **summarize_changes(before, views.contact_audit_fields(survivor, merged_tags)),
            "merged_contact_id": duplicate.id,
            "moved": moved,
        },
    )
    uow.audit(
        "crm.merged_into",
        target_type="contact",
        target_id=duplicate.id,
        changes={"merged_into_id": survivor.id},
    )
    uow.emit("crm.contacts_merged", {"survivor_id": survivor.id, "duplicate_id": duplicate.id, "moved": moved})
    return await contact_dto(uow, survivor)

"""Contacts written by an external CRM sync: one person per linked id or email, never a duplicate."""

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import (
    CaptureLead,
    CreateContact,
    SyncContact,
    SyncDealStage,
    SyncOrganization,
    UpdateContact,
    UpdateLead,
)
from promptsales.domain_core.crm.dto import DealStageOutcome, SyncedContact, SyncedOrganization
from promptsales.domain_core.crm.model.identity import normalize_country, normalize_email, organization_key
from promptsales.domain_core.crm.service import capture, contacts, leads, organizations, views
from promptsales.domain_core.crm.tables import ContactRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import ValidationFailed

# A merge chain longer than this is a data fault, not a reason to loop.
_MERGE_HOPS = 10


async def _linked(uow: UnitOfWork, contact_id: str) -> ContactRecord | None:
    """The linked contact, following merges to the survivor (a merge in the CRM keeps the link)."""
    record = await repo.contacts.get(uow, contact_id)
    for _ in range(_MERGE_HOPS):
        if record is None or record.merged_into_id is None:
            return record
        record = await repo.contacts.get(uow, record.merged_into_id)
    return None


async def sync_contact(uow: UnitOfWork, command: SyncContact) -> SyncedContact:
    """Create or update the person an external record describes (race-safe through the email's unique key)."""
    email = normalize_email(command.email) if command.email else None
    found = await _linked(uow, command.contact_id) if command.contact_id else None
    if found is None and email:
        found = await repo.contacts.find_active(uow, email=email, phone=None)
    organization_id = None
    if command.company or command.company_domain:
        organization = await organizations.for_company(
            uow,
            company=command.company or command.company_domain or "",
            domain=command.company_domain,
            industry=None,
            employee_count=None,
            country=None,
        )
        organization_id = organization.id
    fields = {
        "first_name": command.first_name,
        "last_name": command.last_name,
        "phone": command.phone,
        "title": command.title,
        "country": command.country,
        "organization_id": organization_id,
        "tags": command.tags,
    }
    if found is None:
        if not (email or command.phone or command.first_name or command.last_name):
            raise ValidationFailed(
                f"The {command.source} record has no email, phone or name to make a contact of.", field="email"
            )
        created = await contacts.create_contact(uow, CreateContact(email=email, **fields), source=command.source)
        return SyncedContact(contact=created, created=True)
    if email and found.email != email:
        fields["email"] = email
    updated = await contacts.update_contact(uow, UpdateContact(contact_id=found.id, **fields), source=command.source)
    return SyncedContact(contact=updated, created=False)


async def sync_organization(uow: UnitOfWork, command: SyncOrganization) -> SyncedOrganization:
    """Create or update the company an external record describes (found by link, else domain or name)."""
    found = await repo.organizations.get(uow, command.organization_id) if command.organization_id else None
    created = False
    if found is None:
        existing = await repo.organizations.for_company(
            uow, name_key=organization_key(command.name), domain=command.domain
        )
        found = await organizations.for_company(
            uow,
            company=command.name,
            domain=command.domain,
            industry=command.industry,
            employee_count=command.employee_count,
            country=command.country,
        )
        created = existing is None
    if not created:
        before = views.organization_view(found).model_dump(mode="json", exclude={"id", "created_at"})
        for name in ("industry", "employee_count"):
            value = getattr(command, name)
            if value is not None:
                setattr(found, name, value)
        if command.country is not None:
            found.country = normalize_country(command.country)
        if command.domain and not found.domain:
            found.domain = command.domain.lower()
        found.updated_at = uow.now
        await repo.organizations.save(uow, found)
        after = views.organization_view(found).model_dump(mode="json", exclude={"id", "created_at"})
        if after != before:
            uow.audit(
                "crm.sync_organization", target_type="organization", target_id=found.id, before=before, after=after
            )
            uow.emit("crm.organization_updated", {"organization_id": found.id, "source": command.source})
    return SyncedOrganization(organization=views.organization_view(found), created=created)


async def sync_deal_stage(uow: UnitOfWork, command: SyncDealStage) -> DealStageOutcome:
    """Move the contact's newest lead to the deal's stage (a lead already there is left as it is)."""
    contact = await _linked(uow, command.contact_id)
    if contact is None:
        raise ValidationFailed("The deal's contact is not in the CRM.", field="contact_id")
    found = await repo.leads.of_contact(uow, contact.id)
    if not found:
        if not (contact.email or contact.phone):
            return DealStageOutcome(lead_id=None, stage=None, changed=False)
        # A deal is a sales opportunity: the person becomes a lead (provenance: an import from the platform).
        captured = await capture.capture_lead(
            uow,
            CaptureLead(
                source_channel="import",
                email=contact.email,
                phone=contact.phone,
                first_name=contact.first_name,
                last_name=contact.last_name,
                campaign_ref=f"{command.source} deal",
            ),
        )
        found = await repo.leads.of_contact(uow, captured.contact.id)
    lead = found[0]
    if lead.stage == command.stage and lead.manual_stage:
        return DealStageOutcome(lead_id=lead.id, stage=lead.stage, changed=False)
    view = await leads.update_lead(uow, UpdateLead(lead_id=lead.id, stage=command.stage))
    return DealStageOutcome(lead_id=view.id, stage=view.stage, changed=True)

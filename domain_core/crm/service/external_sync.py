"""Contacts written by an external CRM sync: one person per linked id or email, never a duplicate."""

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import CreateContact, SyncContact, UpdateContact
from promptsales.domain_core.crm.dto import SyncedContact
from promptsales.domain_core.crm.model.identity import normalize_email
from promptsales.domain_core.crm.service import contacts, organizations
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
        created = await contacts.create_contact(uow, CreateContact(email=email, **fields))
        return SyncedContact(contact=created, created=True)
    if email and found.email != email:
        fields["email"] = email
    updated = await contacts.update_contact(uow, UpdateContact(contact_id=found.id, **fields))
    return SyncedContact(contact=updated, created=False)

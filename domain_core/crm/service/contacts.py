"""Contacts: create, read, update, search, merge; consent history."""

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import CreateContact, MergeContacts, UpdateContact
from promptsales.domain_core.crm.dto import ConsentInput, ContactSummary, ContactView
from promptsales.domain_core.crm.model.identity import (
    normalize_country,
    normalize_email,
    normalize_person,
    normalize_phone,
)
from promptsales.domain_core.crm.service import organizations, views
from promptsales.domain_core.crm.tables import ConsentEventRecord, ContactRecord
from promptsales.domain_core.infrastructure.audit import summarize_changes
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import Conflict, NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor

LOOKUP_TOOL = "crm_search_contacts"
CONTACT_FIELDS = ("first_name", "last_name", "title", "region", "owner")
# What a merged survivor takes from the duplicate where it has nothing itself.
MERGE_GAP_FIELDS = (
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
)


async def load_contact(
    uow: UnitOfWork, contact_id: str, *, for_update: bool = False, field: str = "contact_id"
) -> ContactRecord:
    """A contact or NotFound (merged contacts are returned; callers decide)."""
    record = await repo.contacts.get(uow, contact_id, for_update=for_update)
    if record is None:
        raise NotFound("contact", contact_id, field=field, lookup=LOOKUP_TOOL)
    return record


def _not_merged(record: ContactRecord, *, field: str) -> ContactRecord:
    if record.merged_into_id:
        raise Conflict(
            f"contact '{record.id}' was merged into '{record.merged_into_id}'.",
            field=field,
            hint=f"Use contact_id '{record.merged_into_id}'.",
        )
    return record


async def active_contact(uow: UnitOfWork, contact_id: str, *, field: str = "contact_id") -> ContactRecord:
    """A contact that has not been merged away, locked; merged ids get a pointed error."""
    return _not_merged(await load_contact(uow, contact_id, for_update=True, field=field), field=field)


async def contact_dto(uow: UnitOfWork, contact: ContactRecord) -> ContactView:
    """Full DTO of a contact, with tags and consent provenance as stored."""
    tags = (await repo.contacts.tags_of(uow, [contact.id]))[contact.id]
    sources = await repo.contacts.consent_sources(uow, contact.id)
    return views.contact_view(contact, tags, sources)


def consent_events(
    uow: UnitOfWork, contact: ContactRecord, consent: ConsentInput | None, *, default_source: str
) -> list[ConsentEventRecord]:
    """Set the contact's consent columns for each channel given; the history rows to store with it."""
    if consent is None:
        return []
    events = []
    for channel in ("email", "sms", "whatsapp"):
        grant = getattr(consent, channel)
        if grant is None:
            continue
        status = "granted" if grant.granted else "revoked"
        setattr(contact, f"consent_{channel}", status)
        events.append(
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
    return events


def latest_per_channel(events: list[ConsentEventRecord]) -> dict[str, ConsentEventRecord]:
    """The newest of the given consent events for each channel (how the stored history reads)."""
    latest: dict[str, ConsentEventRecord] = {}
    for event in sorted(events, key=lambda e: (e.recorded_at, e.id)):
        latest[event.channel] = event
    return latest


def _duplicate(existing: ContactRecord, *, email: str | None) -> Conflict:
    field, value = ("email", existing.email) if email and existing.email == email else ("phone", existing.phone)
    return Conflict(
        f"A contact with {field} '{value}' already exists ({existing.id}).",
        field=field,
        hint="Update that contact with crm_update_contact, or merge the two with crm_merge_contacts.",
    )


async def _ensure_unique(uow: UnitOfWork, *, email: str | None, phone: str | None, exclude_id: str | None) -> None:
    for by_email, by_phone in ((email, None), (None, phone)):
        existing = await repo.contacts.find_active(uow, email=by_email, phone=by_phone)
        if existing is not None and existing.id != exclude_id:
            raise _duplicate(existing, email=email)


async def create_contact(uow: UnitOfWork, command: CreateContact, *, source: str | None = None) -> ContactView:
    """Create a person; email or phone must be unique among active contacts (race-safe). ``source``: the external
    platform the change comes from (its events say so, so the change is not sent back there)."""
    if not (command.email or command.phone or command.first_name or command.last_name):
        raise ValidationFailed("A contact needs at least an email, a phone or a name.", field="email")
    email, phone, country = normalize_person(email=command.email, phone=command.phone, country=command.country)
    await _ensure_unique(uow, email=email, phone=phone, exclude_id=None)
    if command.organization_id:
        await organizations.organization(uow, command.organization_id)
    contact = ContactRecord(
        id=new_id("ct"),
        tenant_id=uow.tenant_id,
        organization_id=command.organization_id,
        first_name=command.first_name,
        last_name=command.last_name,
        email=email,
        phone=phone,
        title=command.title,
        country=country,
        region=command.region,
        owner=command.owner,
        attributes=dict(command.attributes or {}),
        created_at=uow.now,
        updated_at=uow.now,
    )
    events = consent_events(uow, contact, command.consent, default_source="crm_create_contact")
    stored = await repo.contacts.insert_new(uow, contact)
    if stored is None:  # a concurrent call created this person a moment ago
        await _ensure_unique(uow, email=email, phone=phone, exclude_id=None)
        raise Conflict("The contact changed while it was being created.", field="email", hint="Retry the call.")
    uow.meter("contacts")
    await repo.contacts.add_consent_events(uow, events)
    tags = sorted(set(command.tags or []))
    await repo.contacts.replace_tags(uow, stored.id, tags)
    uow.audit(
        "crm.create_contact",
        target_type="contact",
        target_id=stored.id,
        after=views.contact_audit_fields(stored, tags),
    )
    uow.emit("crm.contact_created", {"contact_id": stored.id, **({"source": source} if source else {})})
    return views.contact_view(stored, tags, latest_per_channel(events))


async def get_contact(uow: UnitOfWork, *, contact_id: str) -> ContactView:
    """One contact with tags and consent."""
    return await contact_dto(uow, await load_contact(uow, contact_id))


async def update_contact(uow: UnitOfWork, command: UpdateContact, *, source: str | None = None) -> ContactView:
    """Apply a partial update; only the fields the command sets are touched (``source`` as for create)."""
    contact = await active_contact(uow, command.contact_id)
    changed = command.changed_fields()
    tags_before = (await repo.contacts.tags_of(uow, [contact.id]))[contact.id]
    before = views.contact_audit_fields(contact, tags_before)
    # The new identity is checked before it is set: the uniqueness lookup may find this very contact, and
    # reading it again (populate_existing) would put the old values back over changes made to the record.
    country = contact.country
    if command.country is not None:
        country = normalize_country(command.country) if command.country else None
    email = contact.email
    if command.email is not None:
        email = normalize_email(command.email) if command.email else None
    phone = contact.phone
    if command.phone is not None:
        phone = normalize_phone(command.phone, country=country) if command.phone else None
    if command.email is not None or command.phone is not None:
        await _ensure_unique(uow, email=email, phone=phone, exclude_id=contact.id)
    contact.country, contact.email, contact.phone = country, email, phone
    if command.organization_id:
        await organizations.organization(uow, command.organization_id)
        contact.organization_id = command.organization_id
    for name in CONTACT_FIELDS:
        value = getattr(command, name)
        if value is not None:
            setattr(contact, name, value)
    if command.attributes is not None:
        merged = dict(contact.attributes)
        for key, value in command.attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact.attributes = merged
    tags_after = tags_before
    if command.tags is not None:
        tags_after = sorted(set(command.tags))
        await repo.contacts.replace_tags(uow, contact.id, tags_after)
    events = consent_events(uow, contact, command.consent, default_source="crm_update_contact")
    contact.updated_at = uow.now
    await repo.contacts.save(uow, contact)
    await repo.contacts.add_consent_events(uow, events)
    uow.audit(
        "crm.update_contact",
        target_type="contact",
        target_id=contact.id,
        before=before,
        after=views.contact_audit_fields(contact, tags_after),
    )
    uow.emit(
        "crm.contact_updated",
        {"contact_id": contact.id, "fields": sorted(changed), **({"source": source} if source else {})},
    )
    return await contact_dto(uow, contact)


async def search_contacts(
    uow: UnitOfWork, *, text: str | None, filters: dict[str, str], cursor: str | None, limit: int
) -> Page[ContactSummary]:
    """Active contacts by free text and filters, in id order with a cursor."""
    scope_filters = {"text": text, **filters}
    position = decode_cursor(cursor, "contacts", scope_filters)
    rows = await repo.contacts.search(
        uow, text=text, filters=filters, after_id=str(position[0]) if position else None, limit=limit + 1
    )
    items = [views.contact_summary(r) for r in rows[:limit]]
    next_cursor = encode_cursor("contacts", scope_filters, [rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def merge_contacts(uow: UnitOfWork, command: MergeContacts) -> ContactView:
    """Fold the duplicate into the survivor: re-point leads, interactions, flow runs, tags, consent history."""
    if command.survivor_id == command.duplicate_id:
        raise ValidationFailed("survivor_id and duplicate_id must differ.", field="duplicate_id")
    locked = await repo.contacts.lock_many(uow, [command.survivor_id, command.duplicate_id])
    for contact_id, field in ((command.survivor_id, "survivor_id"), (command.duplicate_id, "duplicate_id")):
        if contact_id not in locked:
            raise NotFound("contact", contact_id, field=field, lookup=LOOKUP_TOOL)
        _not_merged(locked[contact_id], field=field)
    survivor, duplicate = locked[command.survivor_id], locked[command.duplicate_id]
    tags = await repo.contacts.tags_of(uow, [survivor.id, duplicate.id])
    before = views.contact_audit_fields(survivor, tags[survivor.id])
    moved = await repo.contacts.move_history(uow, from_id=duplicate.id, to_id=survivor.id)
    merged_tags = sorted(set(tags[survivor.id]) | set(tags[duplicate.id]))
    await repo.contacts.replace_tags(uow, survivor.id, merged_tags)
    # The duplicate steps aside first, so the survivor can take its email or phone (unique among active ones).
    duplicate.merged_into_id = survivor.id
    duplicate.updated_at = uow.now
    uow.meter("contacts", -1)
    await repo.contacts.save(uow, duplicate)
    # The survivor keeps its own values and fills its gaps from the duplicate (history is never dropped).
    for name in MERGE_GAP_FIELDS:
        if getattr(survivor, name) is None and getattr(duplicate, name) is not None:
            setattr(survivor, name, getattr(duplicate, name))
    survivor.email = survivor.email or duplicate.email
    survivor.phone = survivor.phone or duplicate.phone
    if (
        duplicate.last_activity_at
        and survivor.last_activity_at
        and duplicate.last_activity_at > survivor.last_activity_at
    ):
        survivor.last_activity_at = duplicate.last_activity_at
    survivor.attributes = {**duplicate.attributes, **survivor.attributes}
    survivor.updated_at = uow.now
    await repo.contacts.save(uow, survivor)
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
    uow.audit("crm.merged_into", target_type="contact", target_id=duplicate.id, changes={"merged_into_id": survivor.id})
    uow.emit("crm.contacts_merged", {"survivor_id": survivor.id, "duplicate_id": duplicate.id, "moved": moved})
    return await contact_dto(uow, survivor)

"""Capturing a lead: upsert the person by email/phone, append a touch, classify — race-safe on every key.

Locks are taken in the repository's one order: the company's organization, then the person, then the lead.
Every write reaches the database before the classification reads, so the score sees the organization,
the touch and the consent written in this same call.
"""

from datetime import datetime

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import CaptureLead
from promptsales.domain_core.crm.dto import CaptureResult, Utm
from promptsales.domain_core.crm.model import provenance
from promptsales.domain_core.crm.model.identity import normalize_domain, normalize_industry, normalize_person
from promptsales.domain_core.crm.service import contacts, organizations, views
from promptsales.domain_core.crm.service.classification import reclassify
from promptsales.domain_core.crm.tables import ConsentEventRecord, ContactRecord, LeadRecord, OrganizationRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import Conflict, ValidationFailed
from promptsales.domain_core.shared.ids import new_id


async def _organization(uow: UnitOfWork, command: CaptureLead, country: str | None) -> OrganizationRecord | None:
    company = (command.company or "").strip()
    if not company:
        return None
    return await organizations.for_company(
        uow,
        company=company,
        domain=normalize_domain(command.company_domain, field="company_domain"),
        industry=normalize_industry(command.industry),
        employee_count=command.employee_count,
        country=country,
    )


def _new_contact(
    uow: UnitOfWork,
    command: CaptureLead,
    *,
    identity: tuple[str | None, str | None, str | None],
    org: OrganizationRecord | None,
    touched_at: datetime,
) -> ContactRecord:
    email, phone, country = identity
    return ContactRecord(
        id=new_id("ct"),
        tenant_id=uow.tenant_id,
        organization_id=org.id if org else None,
        first_name=command.first_name,
        last_name=command.last_name,
        email=email,
        phone=phone,
        title=command.title,
        country=country,
        region=command.region,
        owner=command.owner,
        attributes={},
        last_activity_at=touched_at,
        created_at=uow.now,
        updated_at=uow.now,
    )


async def _known_person(
    uow: UnitOfWork,
    contact: ContactRecord,
    command: CaptureLead,
    *,
    identity: tuple[str | None, str | None, str | None],
    org: OrganizationRecord | None,
    touched_at: datetime,
) -> list[ConsentEventRecord]:
    """Fill the gaps of a known person (a form never overwrites what the CRM knows) and record consent."""
    email, phone, country = identity
    for name, value in (
        ("first_name", command.first_name),
        ("last_name", command.last_name),
        ("title", command.title),
        ("country", country),
        ("region", command.region),
        ("owner", command.owner),
        ("email", email),
        ("phone", phone),
    ):
        if value is not None and getattr(contact, name) is None:
            setattr(contact, name, value)
    if org is not None and contact.organization_id is None:
        contact.organization_id = org.id
    if contact.last_activity_at is None or touched_at > contact.last_activity_at:
        contact.last_activity_at = touched_at
    contact.updated_at = uow.now
    events = contacts.consent_events(uow, contact, command.consent, default_source=command.source_channel)
    await repo.contacts.save(uow, contact)
    return events


async def _person(
    uow: UnitOfWork,
    command: CaptureLead,
    *,
    identity: tuple[str | None, str | None, str | None],
    org: OrganizationRecord | None,
    touched_at: datetime,
) -> tuple[ContactRecord, bool, list[ConsentEventRecord]]:
    """The person (found, else inserted; a concurrent capture of the same person is waited for and reused)."""
    email, phone, _ = identity
    known = await repo.contacts.find_active(uow, email=email, phone=phone)
    if known is None:
        record = _new_contact(uow, command, identity=identity, org=org, touched_at=touched_at)
        events = contacts.consent_events(uow, record, command.consent, default_source=command.source_channel)
        stored = await repo.contacts.insert_new(uow, record)
        if stored is not None:
            uow.meter("contacts")
            return stored, True, events
        known = await repo.contacts.find_active(uow, email=email, phone=phone)
        if known is None:  # the row that blocked ours was rolled back between the two statements
            raise Conflict("The contact changed while the lead was captured.", field="email", hint="Retry the call.")
    events = await _known_person(uow, known, command, identity=identity, org=org, touched_at=touched_at)
    return known, False, events


def _new_lead(uow: UnitOfWork, command: CaptureLead, contact: ContactRecord, touched_at: datetime) -> LeadRecord:
    return LeadRecord(
        id=new_id("ld"),
        tenant_id=uow.tenant_id,
        contact_id=contact.id,
        owner=command.owner,
        source_channel=command.source_channel,
        campaign_ref=command.campaign_ref,
        utm=command.utm.model_dump(exclude_none=True) if command.utm else {},
        referrer=command.referrer,
        landing_page=command.landing_page,
        first_touch_at=touched_at,
        last_touch_at=touched_at,
        touch_count=1,
        subscribed_only=command.subscribed_only,
        stage="lead",
        purchase_potential="low",
        customer_type="individual",
        classified_at=uow.now,
        created_at=uow.now,
        updated_at=uow.now,
    )


def _touch_lead(lead: LeadRecord, command: CaptureLead, touched_at: datetime) -> None:
    """Count another touch; a late-arriving older touch becomes the first touch, with its provenance."""
    lead.touch_count += 1
    if touched_at >= lead.last_touch_at:
        lead.last_touch_at = touched_at
    if touched_at < lead.first_touch_at:
        lead.first_touch_at = touched_at
        lead.source_channel, lead.campaign_ref = command.source_channel, command.campaign_ref
        lead.utm = command.utm.model_dump(exclude_none=True) if command.utm else {}
        lead.referrer, lead.landing_page = command.referrer, command.landing_page
    lead.subscribed_only = lead.subscribed_only and command.subscribed_only
    if command.owner and lead.owner is None:
        lead.owner = command.owner


def _with_tracking(command: CaptureLead) -> CaptureLead:
    """The command with UTM parameters read from the landing page when none were given, and the campaign
    reference taken from utm_campaign when none was named."""
    utm = command.utm.model_dump(exclude_none=True) if command.utm else provenance.utm_from_url(command.landing_page)
    campaign_ref = provenance.campaign_ref_from(command.campaign_ref, utm)
    if command.utm is None and utm:
        return command.model_copy(update={"utm": Utm(**utm), "campaign_ref": campaign_ref})
    if campaign_ref != command.campaign_ref:
        return command.model_copy(update={"campaign_ref": campaign_ref})
    return command


async def capture_lead(uow: UnitOfWork, command: CaptureLead) -> CaptureResult:
    """Upsert the person by normalized email/phone, append a touch, and classify the lead."""
    if not command.email and not command.phone:
        raise ValidationFailed("crm_capture_lead needs an email or a phone to identify the person.", field="email")
    command = _with_tracking(command)
    identity = normalize_person(email=command.email, phone=command.phone, country=command.country)
    touched_at = as_utc(command.occurred_at, field="occurred_at") if command.occurred_at else uow.now
    if touched_at > uow.now:
        raise ValidationFailed("occurred_at is in the future.", field="occurred_at")

    org = await _organization(uow, command, identity[2])
    contact, created, events = await _person(uow, command, identity=identity, org=org, touched_at=touched_at)
    await repo.contacts.add_consent_events(uow, events)
    tags = sorted(set(command.tags or []))
    if tags:
        existing = [] if created else (await repo.contacts.tags_of(uow, [contact.id]))[contact.id]
        tags = sorted({*existing, *tags})
        await repo.contacts.replace_tags(uow, contact.id, tags)

    known_lead = None if created else next(iter(await repo.leads.of_contact(uow, contact.id, for_update=True)), None)
    lead = known_lead or _new_lead(uow, command, contact, touched_at)
    if known_lead is not None:
        _touch_lead(known_lead, command, touched_at)
    utm = command.utm.model_dump(exclude_none=True) if command.utm else {}
    await repo.leads.add_touch(
        uow,
        touch_id=new_id("tch"),
        lead_id=lead.id,
        source_channel=command.source_channel,
        campaign_ref=command.campaign_ref,
        utm=utm,
        referrer=command.referrer,
        landing_page=command.landing_page,
        occurred_at=touched_at,
    )
    if created:
        # A brand-new person has exactly this touch and no interactions: no statistics to query.
        await reclassify(
            uow, lead, contact, is_new=True, touch_stats=(1, [command.source_channel]), interactions=(0, 0)
        )
    else:
        await reclassify(uow, lead, contact, is_new=known_lead is None)
    # A new lead is inserted once, already classified.
    await (repo.leads.save if known_lead is not None else repo.leads.add)(uow, lead)

    summary = {
        "contact_id": contact.id,
        "new_person": created,
        "source_channel": command.source_channel,
        "campaign_ref": command.campaign_ref,
        "utm": utm,
        "landing_page": command.landing_page,
        "referrer": command.referrer,
        "country": contact.country,
        "occurred_at": touched_at.isoformat(),
        "stage": lead.stage,
        "score": lead.score,
    }
    uow.audit("crm.capture_lead", target_type="lead", target_id=lead.id, changes=summary)
    uow.emit("crm.lead_captured", {"lead_id": lead.id, **summary})
    contact_view = (
        views.contact_view(contact, tags, contacts.latest_per_channel(events))
        if created
        else await contacts.contact_dto(uow, contact)
    )
    return CaptureResult(contact=contact_view, lead=views.lead_view(lead), created=created)

"""Leads: capture with provenance (upsert by person), read, list, update."""

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import CaptureResult, ConsentInput, LeadSummary, LeadView, Utm
from promptsales.domain_core.crm.model.identity import (
    normalize_person,
)
from promptsales.domain_core.crm.model.vocabulary import MANUAL_STAGES
from promptsales.domain_core.crm.service import contacts, views
from promptsales.domain_core.crm.service.classification import reclassify
from promptsales.domain_core.crm.tables import ContactRecord, LeadRecord, LeadTouchRecord, OrganizationRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.clock import as_utc
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed
from promptsales.domain_core.shared.ids import new_id
from promptsales.domain_core.shared.pagination import Page, decode_cursor, encode_cursor


async def _organization_for(
    uow: UnitOfWork,
    *,
    company: str,
    domain: str | None,
    industry: str | None,
    employee_count: int | None,
    country: str | None,
) -> OrganizationRecord:
    found = await repo.find_organization(uow.session, uow.tenant_id, name=company, domain=domain)
    if found is not None:
        changed = False
        for name, value in (("industry", industry), ("employee_count", employee_count), ("country", country)):
            if value is not None and getattr(found, name) is None:
                setattr(found, name, value)
                changed = True
        if changed:
            found.updated_at = uow.now
            uow.session.add(found)
        return found
    record = OrganizationRecord(
        id=new_id("org"),
        tenant_id=uow.tenant_id,
        name=company.strip(),
        domain=domain,
        industry=industry,
        employee_count=employee_count,
        country=country,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(record)
    uow.audit(
        "crm.create_organization",
        target_type="organization",
        target_id=record.id,
        after={"name": record.name, "domain": domain, "via": "capture_lead"},
    )
    return record


async def capture_lead(
    uow: UnitOfWork,
    *,
    email: str | None,
    phone: str | None,
    first_name: str | None,
    last_name: str | None,
    title: str | None,
    company: str | None,
    company_domain: str | None,
    industry: str | None,
    employee_count: int | None,
    country: str | None,
    region: str | None,
    source_channel: str,
    campaign_ref: str | None,
    utm: Utm | None,
    referrer: str | None,
    landing_page: str | None,
    occurred_at: datetime | None,
    consent: ConsentInput | None,
    owner: str | None,
    subscribed_only: bool,
    tags: list[str] | None = None,
) -> CaptureResult:
    """Upsert the person by normalized email/phone, append a touch, and classify the lead."""
    if not email and not phone:
        raise ValidationFailed("capture_lead needs an email or a phone to identify the person.", field="email")
    norm_email, norm_phone, country_code = normalize_person(email=email, phone=phone, country=country)
    touched_at = as_utc(occurred_at, field="occurred_at") if occurred_at else uow.now
    if touched_at > uow.now:
        raise ValidationFailed("occurred_at is in the future.", field="occurred_at")
    industry_key = industry.strip().lower() if industry else None
    domain = company_domain.strip().lower() if company_domain else None

    contact = await repo.find_contact(uow.session, uow.tenant_id, email=norm_email, phone=norm_phone)
    created = contact is None
    org = None
    if company:
        org = await _organization_for(
            uow,
            company=company,
            domain=domain,
            industry=industry_key,
            employee_count=employee_count,
            country=country_code,
        )
    if contact is None:
        contact = ContactRecord(
            id=new_id("ct"),
            tenant_id=uow.tenant_id,
            organization_id=org.id if org else None,
            first_name=first_name,
            last_name=last_name,
            email=norm_email,
            phone=norm_phone,
            title=title,
            country=country_code,
            region=region,
            owner=owner,
            attributes={},
            last_activity_at=touched_at,
            created_at=uow.now,
            updated_at=uow.now,
        )
        uow.session.add(contact)
        uow.meter("contacts")
    else:
        # A known person: fill gaps only; what the CRM already knows is not overwritten by a form.
        for name, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("title", title),
            ("country", country_code),
            ("region", region),
            ("owner", owner),
            ("email", norm_email),
            ("phone", norm_phone),
        ):
            if value is not None and getattr(contact, name) is None:
                setattr(contact, name, value)
        if org is not None and contact.organization_id is None:
            contact.organization_id = org.id
        if contact.last_activity_at is None or touched_at > contact.last_activity_at:
            contact.last_activity_at = touched_at
        contact.updated_at = uow.now
        uow.session.add(contact)
    contacts.apply_consent(uow, contact, consent, default_source=source_channel)
    if tags:
        existing_tags = (await repo.tags_by_contact(uow.session, uow.tenant_id, [contact.id]))[contact.id]
        await repo.replace_tags(uow.session, uow.tenant_id, contact.id, [*existing_tags, *tags])

    utm_data = utm.model_dump(exclude_none=True) if utm else {}
    lead = None if created else next(iter(await repo.leads_of_contact(uow.session, uow.tenant_id, contact.id)), None)
    is_new_lead = lead is None
    if lead is None:
        lead = LeadRecord(
            id=new_id("ld"),
            tenant_id=uow.tenant_id,
            contact_id=contact.id,
            owner=owner,
            source_channel=source_channel,
            campaign_ref=campaign_ref,
            utm=utm_data,
            referrer=referrer,
            landing_page=landing_page,
            first_touch_at=touched_at,
            last_touch_at=touched_at,
            touch_count=1,
            subscribed_only=subscribed_only,
            stage="lead",
            purchase_potential="low",
            customer_type="individual",
            classified_at=uow.now,
            created_at=uow.now,
            updated_at=uow.now,
        )
    else:
        lead.touch_count += 1
        if touched_at >= lead.last_touch_at:
            lead.last_touch_at = touched_at
        if touched_at < lead.first_touch_at:
            # A late-arriving older touch becomes the first touch, with its provenance.
            lead.first_touch_at = touched_at
            lead.source_channel, lead.campaign_ref, lead.utm = source_channel, campaign_ref, utm_data
            lead.referrer, lead.landing_page = referrer, landing_page
        lead.subscribed_only = lead.subscribed_only and subscribed_only
        if owner and lead.owner is None:
            lead.owner = owner
    uow.session.add(lead)
    await uow.session.execute(
        insert(LeadTouchRecord).values(
            id=new_id("tch"),
            tenant_id=uow.tenant_id,
            lead_id=lead.id,
            source_channel=source_channel,
            campaign_ref=campaign_ref,
            utm=utm_data,
            referrer=referrer,
            landing_page=landing_page,
            occurred_at=touched_at,
        )
    )
    if created:
        # A brand-new person has exactly this touch and no interactions: no stat queries, and the lead is
        # inserted once, already classified (no flush, no UPDATE).
        await reclassify(uow, lead, contact, is_new=True, touch_stats=(1, [source_channel]), interaction_stats=(0, 0))
    else:
        await uow.session.flush()  # the touch stats below must see this touch
        await reclassify(uow, lead, contact, is_new=is_new_lead)
    uow.audit(
        "crm.capture_lead",
        target_type="lead",
        target_id=lead.id,
        changes={
            "contact_id": contact.id,
            "new_person": created,
            "source_channel": source_channel,
            "campaign_ref": campaign_ref,
            "utm": utm_data,
            "stage": lead.stage,
            "score": lead.score,
        },
    )
    uow.emit(
        "crm.lead_captured",
        {
            "lead_id": lead.id,
            "contact_id": contact.id,
            "new_person": created,
            "source_channel": source_channel,
            "campaign_ref": campaign_ref,
            "utm": utm_data,
            "stage": lead.stage,
            "score": lead.score,
        },
    )
    tags_now = sorted(set(tags or [])) if created else None
    contact_view = (
        views.contact_view(contact, tags_now or [])
        if created and consent is None
        else await contacts.contact_dto(uow, contact)
    )
    return CaptureResult(contact=contact_view, lead=views.lead_view(lead), created=created)


async def get_lead(uow: UnitOfWork, *, lead_id: str) -> LeadView:
    """One lead with its classification."""
    lead = await repo.get_lead(uow.session, uow.tenant_id, lead_id)
    if lead is None:
        raise NotFound("lead", lead_id, field="lead_id")
    return views.lead_view(lead)


async def list_leads(
    uow: UnitOfWork, *, filters: dict[str, Any], segment_contacts: Any | None, cursor: str | None, limit: int
) -> Page[LeadSummary]:
    """Leads newest first, filtered, with a cursor."""
    filters = {
        k: as_utc(v, field=k) if k in ("created_from", "created_to") and v is not None else v
        for k, v in filters.items()
    }
    position = decode_cursor(cursor, "leads", filters)
    rows = await repo.list_leads(
        uow.session,
        uow.tenant_id,
        filters=filters,
        segment_contacts=segment_contacts,
        after_id=str(position[0]) if position else None,
        limit=limit + 1,
    )
    items = [views.lead_summary(lead, contact) for lead, contact in rows[:limit]]
    next_cursor = encode_cursor("leads", filters, [rows[limit - 1][0].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def update_lead(
    uow: UnitOfWork, *, lead_id: str, owner: str | None, stage: str | None, clear_manual_stage: bool
) -> LeadView:
    """Assign an owner, or set a stage by hand (opportunity/customer stay until cleared)."""
    lead = await repo.get_lead(uow.session, uow.tenant_id, lead_id, for_update=True)
    if lead is None:
        raise NotFound("lead", lead_id, field="lead_id")
    before = {"owner": lead.owner, "stage": lead.stage, "manual_stage": lead.manual_stage}
    if owner is not None:
        lead.owner = owner or None
    if stage is not None:
        if stage not in MANUAL_STAGES:
            raise ValidationFailed(
                f"stage '{stage}' is computed by classification and cannot be set by hand.",
                field="stage",
                hint="Set 'opportunity' or 'customer', or use clear_manual_stage.",
            )
        lead.stage = stage
        lead.manual_stage = True
    if clear_manual_stage:
        lead.manual_stage = False
    if not lead.manual_stage:
        contact = await repo.get_contact(uow.session, uow.tenant_id, lead.contact_id)
        if contact is None:
            raise NotFound("contact", lead.contact_id, field="lead_id")
        await reclassify(uow, lead, contact)
    lead.updated_at = uow.now
    uow.session.add(lead)
    after = {"owner": lead.owner, "stage": lead.stage, "manual_stage": lead.manual_stage}
    uow.audit("crm.update_lead", target_type="lead", target_id=lead.id, before=before, after=after)
    uow.emit("crm.lead_updated", {"lead_id": lead.id, **after})
    return views.lead_view(lead)

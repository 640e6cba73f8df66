"""Converters from CRM records to the facade's DTOs."""

from typing import Any

from promptsales.domain_core.crm.dto import (
    ClassificationView,
    ConsentChannelState,
    ConsentState,
    ContactSummary,
    ContactView,
    InteractionView,
    LeadSummary,
    LeadView,
    OrganizationView,
    ScoreFactorView,
    Utm,
)
from promptsales.domain_core.crm.tables import (
    ConsentEventRecord,
    ContactRecord,
    InteractionRecord,
    LeadRecord,
    OrganizationRecord,
)


def organization_view(record: OrganizationRecord) -> OrganizationView:
    """DTO of an organization."""
    return OrganizationView.model_validate(record, from_attributes=True)


def display_name(contact: ContactRecord) -> str | None:
    """First and last name joined, or None."""
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return name or None


def consent_state(contact: ContactRecord, sources: dict[str, ConsentEventRecord] | None = None) -> ConsentState:
    """Current consent per channel, with where and when it was last given."""
    sources = sources or {}

    def channel(name: str, status: str | None) -> ConsentChannelState:
        event = sources.get(name)
        return ConsentChannelState.model_validate(
            {
                "status": status,
                "source": event.source if event else None,
                "recorded_at": event.recorded_at if event else None,
            }
        )

    return ConsentState(
        email=channel("email", contact.consent_email),
        sms=channel("sms", contact.consent_sms),
        whatsapp=channel("whatsapp", contact.consent_whatsapp),
    )


def contact_view(
    contact: ContactRecord, tags: list[str], sources: dict[str, ConsentEventRecord] | None = None
) -> ContactView:
    """DTO of a contact."""
    return ContactView(
        id=contact.id,
        organization_id=contact.organization_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        title=contact.title,
        country=contact.country,
        region=contact.region,
        owner=contact.owner,
        tags=tags,
        attributes=dict(contact.attributes),
        consent=consent_state(contact, sources),
        last_activity_at=contact.last_activity_at,
        merged_into_id=contact.merged_into_id,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def contact_summary(contact: ContactRecord) -> ContactSummary:
    """Short DTO of a contact for listings."""
    return ContactSummary(
        id=contact.id,
        name=display_name(contact),
        email=contact.email,
        phone=contact.phone,
        organization_id=contact.organization_id,
        country=contact.country,
        last_activity_at=contact.last_activity_at,
    )


def classification_view(lead: LeadRecord) -> ClassificationView:
    """The classification stored on a lead."""
    explanation: dict[str, Any] = lead.explanation
    return ClassificationView(
        lead_id=lead.id,
        stage=lead.stage,
        previous_stage=explanation.get("previous_stage"),
        stage_reason=explanation.get("stage_reason", ""),
        score=lead.score,
        fit_score=lead.fit_score,
        engagement_score=lead.engagement_score,
        qualification_score=explanation.get("qualification_score", 0),
        purchase_potential=lead.purchase_potential,
        customer_type=lead.customer_type,
        seniority=explanation.get("seniority", "unknown"),
        factors=[ScoreFactorView.model_validate(f) for f in explanation.get("factors", [])],
        rules_version=explanation.get("rules_version", 0),
        classified_at=lead.classified_at,
    )


def lead_view(lead: LeadRecord) -> LeadView:
    """DTO of a lead with its classification."""
    return LeadView(
        id=lead.id,
        contact_id=lead.contact_id,
        owner=lead.owner,
        source_channel=lead.source_channel,
        campaign_ref=lead.campaign_ref,
        utm=Utm.model_validate(lead.utm),
        referrer=lead.referrer,
        landing_page=lead.landing_page,
        first_touch_at=lead.first_touch_at,
        last_touch_at=lead.last_touch_at,
        touch_count=lead.touch_count,
        stage=lead.stage,
        score=lead.score,
        purchase_potential=lead.purchase_potential,
        customer_type=lead.customer_type,
        qualification=dict(lead.qualification),
        classification=classification_view(lead),
        created_at=lead.created_at,
    )


def lead_summary(lead: LeadRecord, contact: ContactRecord) -> LeadSummary:
    """Short DTO of a lead for listings."""
    return LeadSummary(
        id=lead.id,
        contact_id=lead.contact_id,
        contact_name=display_name(contact),
        email=contact.email,
        source_channel=lead.source_channel,
        stage=lead.stage,
        score=lead.score,
        purchase_potential=lead.purchase_potential,
        owner=lead.owner,
        last_touch_at=lead.last_touch_at,
        created_at=lead.created_at,
    )


def interaction_view(record: InteractionRecord) -> InteractionView:
    """DTO of an interaction."""
    return InteractionView.model_validate(record, from_attributes=True)


def contact_audit_fields(contact: ContactRecord, tags: list[str] | None = None) -> dict[str, Any]:
    """The fields of a contact the audit log summarizes."""
    fields: dict[str, Any] = {
        "organization_id": contact.organization_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "title": contact.title,
        "country": contact.country,
        "region": contact.region,
        "owner": contact.owner,
        "consent_email": contact.consent_email,
        "consent_sms": contact.consent_sms,
        "consent_whatsapp": contact.consent_whatsapp,
        "merged_into_id": contact.merged_into_id,
        "attributes": dict(contact.attributes),
    }
    if tags is not None:
        fields["tags"] = list(tags)
    return fields

"""Lead classification: gather facts from the CRM, score with the tenant's rules, store the explanation."""

from pydantic import ValidationError

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.commands import ClassifyLead, SetScoringRules
from promptsales.domain_core.crm.dto import ClassificationView, ScoringRulesView
from promptsales.domain_core.crm.model.scoring import LeadFacts, classify
from promptsales.domain_core.crm.model.scoring_rules import (
    ScoringRules,
    default_scoring_rules,
    merge_rule_overrides,
)
from promptsales.domain_core.crm.service import views
from promptsales.domain_core.crm.tables import ContactRecord, LeadRecord, ScoringRulesRecord
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed


async def tenant_rules(uow: UnitOfWork) -> ScoringRules:
    """The tenant's scoring rules, or the shipped defaults."""
    record = await repo.tenant_settings.scoring_rules(uow)
    return default_scoring_rules() if record is None else ScoringRules.model_validate(record.rules)


async def rules_view(uow: UnitOfWork) -> ScoringRulesView:
    """The rules in force, and whether the tenant changed them."""
    record = await repo.tenant_settings.scoring_rules(uow)
    rules = default_scoring_rules() if record is None else ScoringRules.model_validate(record.rules)
    return ScoringRulesView(customized=record is not None, rules=rules.model_dump(mode="json"))


async def set_rules(uow: UnitOfWork, command: SetScoringRules) -> ScoringRulesView:
    """Merge the overrides into the current rules (or the defaults when resetting) and store them."""
    base = default_scoring_rules() if command.reset else await tenant_rules(uow)
    try:
        rules = merge_rule_overrides(base, command.overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "rules." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(
            f"{path}: {first['msg']}", field=path, hint="Read crm_get_scoring_rules for the expected shape."
        ) from exc
    before = await repo.tenant_settings.scoring_rules(uow)
    record = before or ScoringRulesRecord(tenant_id=uow.tenant_id, rules={}, updated_at=uow.now)
    previous = dict(record.rules) if before else base.model_dump(mode="json")
    record.rules = rules.model_dump(mode="json")
    record.updated_at = uow.now
    await repo.tenant_settings.save_scoring_rules(uow, record)
    uow.audit(
        "crm.set_scoring_rules",
        target_type="scoring_rules",
        target_id=uow.tenant_id,
        before={"version": previous.get("version")},
        after={"version": rules.version, "overrides": command.overrides},
    )
    uow.emit("crm.scoring_rules_changed", {"version": rules.version})
    return ScoringRulesView(customized=True, rules=rules.model_dump(mode="json"))


async def lead_facts(
    uow: UnitOfWork,
    lead: LeadRecord,
    contact: ContactRecord,
    *,
    touch_stats: tuple[int, list[str]] | None = None,
    interactions: tuple[int, int] | None = None,
) -> LeadFacts:
    """Everything scoring needs about one lead; statistics can be passed in when the caller knows them."""
    org = await repo.organizations.get(uow, contact.organization_id) if contact.organization_id else None
    touches, channels = touch_stats or await repo.leads.touch_stats(uow, lead.id)
    total, inbound = interactions or await repo.interactions.stats(uow, contact.id)
    intent, sentiment = await repo.interactions.latest_signals(uow, contact.id) if total else (None, None)
    return LeadFacts(
        industry=org.industry if org else None,
        employee_count=org.employee_count if org else None,
        country=contact.country or (org.country if org else None),
        region=contact.region or (org.region if org else None),
        title=contact.title,
        touch_count=touches,
        touch_channels=tuple(channels),
        last_activity_at=contact.last_activity_at,
        interaction_count=total,
        inbound_interaction_count=inbound,
        latest_intent=intent,
        latest_sentiment=sentiment,
        qualification={k: str(v) for k, v in lead.qualification.items()},
        score_adjustment=lead.score_adjustment,
        current_stage=lead.stage if lead.manual_stage else None,
        subscribed_only=lead.subscribed_only,
    )


async def reclassify(
    uow: UnitOfWork,
    lead: LeadRecord,
    contact: ContactRecord,
    *,
    touch_stats: tuple[int, list[str]] | None = None,
    interactions: tuple[int, int] | None = None,
    is_new: bool = False,
) -> ClassificationView:
    """Score ``lead`` now and set stage, score, potential, type and the explanation on it (the caller saves it)."""
    facts = await lead_facts(uow, lead, contact, touch_stats=touch_stats, interactions=interactions)
    result = classify(facts, await tenant_rules(uow), now=uow.now)
    previous = None if is_new else lead.stage
    lead.stage = result.stage
    lead.score = result.score
    lead.fit_score = result.fit_score
    lead.engagement_score = result.engagement_score
    lead.purchase_potential = result.purchase_potential
    lead.customer_type = result.customer_type
    lead.explanation = {
        "factors": [f.model_dump(mode="json") for f in result.factors],
        "stage_reason": result.stage_reason,
        "previous_stage": previous,
        "qualification_score": result.qualification_score,
        "seniority": result.seniority,
        "rules_version": result.rules_version,
    }
    lead.classified_at = uow.now
    lead.updated_at = uow.now
    return views.classification_view(lead)


async def classify_lead(uow: UnitOfWork, command: ClassifyLead) -> ClassificationView:
    """Reclassify one lead on demand; audited when stage or score change."""
    lead = await repo.leads.get(uow, command.lead_id, for_update=True)
    if lead is None:
        raise NotFound("lead", command.lead_id, field="lead_id", lookup="crm_list_leads")
    contact = await repo.contacts.get(uow, lead.contact_id)
    if contact is None:
        raise NotFound("contact", lead.contact_id, field="lead_id", lookup="crm_search_contacts")
    before = {"stage": lead.stage, "score": lead.score, "purchase_potential": lead.purchase_potential}
    view = await reclassify(uow, lead, contact)
    await repo.leads.save(uow, lead)
    after = {"stage": view.stage, "score": view.score, "purchase_potential": view.purchase_potential}
    if before != after:
        uow.audit("crm.classify_lead", target_type="lead", target_id=lead.id, before=before, after=after)
        uow.emit("crm.lead_classified", {"lead_id": lead.id, "contact_id": lead.contact_id, **after})
    return view

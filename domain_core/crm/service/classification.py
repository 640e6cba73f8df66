"""Lead classification: gather facts from the CRM, score with the tenant's rules, store the explanation."""

from typing import Any

from pydantic import ValidationError

from promptsales.domain_core.crm import repository as repo
from promptsales.domain_core.crm.dto import ClassificationView
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
    record = await repo.scoring_rules(uow.session, uow.tenant_id)
    return default_scoring_rules() if record is None else ScoringRules.model_validate(record.rules)


async def set_rules(uow: UnitOfWork, *, overrides: dict[str, Any], reset: bool) -> ScoringRules:
    """Merge ``overrides`` into the current rules (or the defaults when ``reset``) and store them."""
    base = default_scoring_rules() if reset else await tenant_rules(uow)
    try:
        rules = merge_rule_overrides(base, overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "rules." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(
            f"{path}: {first['msg']}", field=path, hint="Read get_scoring_rules for the expected shape."
        ) from exc
    before = await repo.scoring_rules(uow.session, uow.tenant_id)
    record = before or ScoringRulesRecord(tenant_id=uow.tenant_id, rules={}, updated_at=uow.now)
    previous = dict(record.rules) if before else base.model_dump(mode="json")
    record.rules = rules.model_dump(mode="json")
    record.updated_at = uow.now
    uow.session.add(record)
    uow.audit(
        "crm.set_scoring_rules",
        target_type="scoring_rules",
        target_id=uow.tenant_id,
        before={"version": previous.get("version")},
        after={"version": rules.version, "overrides": overrides},
    )
    uow.emit("crm.scoring_rules_changed", {"version": rules.version})
    return rules


async def lead_facts(
    uow: UnitOfWork,
    lead: LeadRecord,
    contact: ContactRecord,
    *,
    touch_stats: tuple[int, list[str]] | None = None,
    interaction_stats: tuple[int, int] | None = None,
) -> LeadFacts:
    """Everything scoring needs about one lead; stats can be passed in when the caller knows them."""
    org = (
        await repo.get_organization(uow.session, uow.tenant_id, contact.organization_id)
        if contact.organization_id
        else None
    )
    touches, channels = touch_stats or await repo.touch_stats(uow.session, uow.tenant_id, lead.id)
    total, inbound = interaction_stats or await repo.interaction_stats(uow.session, uow.tenant_id, contact.id)
    intent, sentiment = await repo.latest_signals(uow.session, uow.tenant_id, contact.id) if total else (None, None)
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
    rules: ScoringRules | None = None,
    touch_stats: tuple[int, list[str]] | None = None,
    interaction_stats: tuple[int, int] | None = None,
    is_new: bool = False,
) -> ClassificationView:
    """Score ``lead`` now and store stage, score, potential, type and the explanation on it."""
    facts = await lead_facts(uow, lead, contact, touch_stats=touch_stats, interaction_stats=interaction_stats)
    result = classify(facts, rules or await tenant_rules(uow), now=uow.now)
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
    uow.session.add(lead)
    return views.classification_view(lead)


async def classify_lead(uow: UnitOfWork, *, lead_id: str) -> ClassificationView:
    """Reclassify one lead on demand; audited when stage or score change."""
    lead = await repo.get_lead(uow.session, uow.tenant_id, lead_id, for_update=True)
    if lead is None:
        raise NotFound("lead", lead_id, field="lead_id")
    contact = await repo.get_contact(uow.session, uow.tenant_id, lead.contact_id)
    if contact is None:
        raise NotFound("contact", lead.contact_id, field="lead_id")
    before = {"stage": lead.stage, "score": lead.score, "purchase_potential": lead.purchase_potential}
    view = await reclassify(uow, lead, contact)
    after = {"stage": view.stage, "score": view.score, "purchase_potential": view.purchase_potential}
    if before != after:
        uow.audit("crm.classify_lead", target_type="lead", target_id=lead.id, before=before, after=after)
        uow.emit("crm.lead_classified", {"lead_id": lead.id, **after})
    return view

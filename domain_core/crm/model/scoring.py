"""Lead classification: lifecycle stage, 0-100 score, purchase potential and customer type, all explained.

Pure and deterministic: no I/O, no clock (``now`` is a parameter), no numbers of its own; every number
comes from a :class:`ScoringRules` document (per tenant; defaults in ``default_scoring_rules.json``).
The same facts, rules and ``now`` always give an identical :class:`Classification`.

Score = fit (industry, company size, region, seniority; capped at ``fit.max_points``)
      + engagement (touches, recency, channels, interactions; capped at ``engagement.max_points``)
      + qualification (BANT answers; capped at ``qualification.max_points``)
      + the manual/flow score adjustment, then clamped to 0..100.
``factors`` lists every factor with its points, zeros included; when a group cap bites, a
``<group>_cap`` factor with negative points records the excess, so the points always sum exactly to the
score before clamping.

Stage rule, first match wins:
1. ``current_stage`` is a manual stage (opportunity, customer): kept; scoring never changes a human decision.
2. ``subscribed_only`` and no interactions: ``subscriber``.
3. score >= ``stages.sql_min_score`` and every ``stages.sql_requires`` question answered positively
   (an answer is positive when the rules give it more than 0 points): ``sql``.
4. score >= ``stages.mql_min_score``: ``mql``.
5. otherwise ``lead``.
Apart from manual stages, the stage is recomputed from the facts each time (no memory of earlier stages),
so a corrected answer can move a lead from sql back to mql; keeping stage history is the caller's job.

Purchase potential: high when score >= ``potential.high_min_score`` or the budget answer is one of
``potential.high_budgets``; medium when score >= ``potential.medium_min_score``; else low.
"""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from promptsales.domain_core.crm.model.scoring_rules import (
    ScoringRules,
    default_scoring_rules,
    merge_rule_overrides,
    normalize_key,
)
from promptsales.domain_core.crm.model.vocabulary import (
    MANUAL_STAGES,
    CustomerType,
    LifecycleStage,
    PurchasePotential,
    Seniority,
)

__all__ = [
    "Classification",
    "LeadFacts",
    "ScoreFactor",
    "ScoringRules",
    "classify",
    "default_scoring_rules",
    "infer_seniority",
    "merge_rule_overrides",
]

FactorGroup = Literal["fit", "engagement", "qualification", "adjustment"]


class LeadFacts(BaseModel):
    """What is known about one person, gathered by the caller from CRM records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    industry: str | None = None
    employee_count: Annotated[int, Field(ge=0)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    region: str | None = None
    title: str | None = None
    touch_count: Annotated[int, Field(ge=0)] = 0
    touch_channels: tuple[str, ...] = ()
    last_activity_at: AwareDatetime | None = None
    interaction_count: Annotated[int, Field(ge=0)] = 0
    inbound_interaction_count: Annotated[int, Field(ge=0)] = 0
    latest_intent: str | None = None
    latest_sentiment: str | None = None
    qualification: dict[str, str] = Field(default_factory=dict)
    score_adjustment: int = 0
    current_stage: LifecycleStage | None = None
    subscribed_only: bool = False

    @field_validator("country", mode="before")
    @classmethod
    def _upper_country(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() or None
        return value

    @model_validator(mode="after")
    def _inbound_within_total(self) -> "LeadFacts":
        if self.inbound_interaction_count > self.interaction_count:
            raise ValueError("inbound_interaction_count cannot exceed interaction_count")
        return self


class ScoreFactor(BaseModel):
    """One line of the explanation: a factor, what was observed, and the points it gave."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: FactorGroup
    factor: str
    value: str | None
    points: int
    max_points: int  # 0 where there is no fixed maximum (adjustments, cap corrections)
    reason: str


class Classification(BaseModel):
    """The scorer's verdict on one person, with every factor that led to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: LifecycleStage
    score: Annotated[int, Field(ge=0, le=100)]
    fit_score: int
    engagement_score: int
    qualification_score: int
    purchase_potential: PurchasePotential
    customer_type: CustomerType
    seniority: Seniority
    factors: tuple[ScoreFactor, ...]
    stage_reason: str
    rules_version: int


def infer_seniority(title: str | None, rules: ScoringRules) -> Seniority:
    """Infer seniority from a job title with the rules' keywords (whole words, accents and case ignored)."""
    return rules.fit.seniority.keywords.match(title)[0]


def _factor(group: FactorGroup, factor: str, value: str | None, points: int, top: int, reason: str) -> ScoreFactor:
    """Build a :class:`ScoreFactor` positionally, keeping the factor functions short."""
    return ScoreFactor(group=group, factor=factor, value=value, points=points, max_points=top, reason=reason)


def _plural(count: int, noun: str) -> str:
    """Return "1 touch" / "3 touches" style text."""
    suffix = "es" if noun.endswith(("ch", "s")) else "s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}{suffix}"


def _industry(facts: LeadFacts, rules: ScoringRules) -> ScoreFactor:
    """Points for the lead's industry, matched by normalized key."""
    industry, table = normalize_key(facts.industry or ""), rules.fit.industry
    if not industry:
        points, reason = 0, "Industry unknown: no points."
    elif industry in table.points:
        points = table.points[industry]
        reason = f"Industry '{industry}' is scored {points} points."
    else:
        points = table.default_points
        reason = f"Industry '{industry}' is not listed: default {points} points."
    return _factor("fit", "industry", industry or None, points, table.max_points, reason)


def _company_size(facts: LeadFacts, rules: ScoringRules) -> ScoreFactor:
    """Points for the company's employee count."""
    size, sizes = facts.employee_count, rules.fit.company_size
    if size is None:
        return _factor("fit", "company_size", None, 0, sizes.max_points, "Company size unknown: no points.")
    band, value = sizes.band_for(size), _plural(size, "employee")
    if band is None:
        reason = f"{value} is outside every size band: no points."
        return _factor("fit", "company_size", value, 0, sizes.max_points, reason)
    span = f"{band.min}+" if band.max is None else f"{band.min}-{band.max}"
    reason = f"{value} is in the {span} band: {band.points} points."
    return _factor("fit", "company_size", value, band.points, sizes.max_points, reason)


def _region(facts: LeadFacts, rules: ScoringRules) -> ScoreFactor:
    """Points for the country, refined by region where the rules list it."""
    country, region, table = facts.country, normalize_key(facts.region or ""), rules.fit.region
    value = "/".join(part for part in (country, region) if part) or None
    regional = table.regions.get(country, {}) if country else {}
    if country is None:
        points, reason = 0, "Country unknown: no points."
    elif region in regional:
        points = regional[region]
        reason = f"Region '{region}' of {country} is scored {points} points."
    elif country in table.countries:
        points = table.countries[country]
        reason = f"Country {country} is scored {points} points."
    else:
        points = table.default_points
        reason = f"Country {country} is not listed: default {points} points."
    return _factor("fit", "region", value, points, table.max_points, reason)


def _seniority(facts: LeadFacts, rules: ScoringRules, seniority: Seniority, keyword: str | None) -> ScoreFactor:
    """Points for the seniority inferred from the title."""
    table = rules.fit.seniority
    points: int = getattr(table.points, seniority)
    if seniority == "unknown":
        reason = f"No job title, so seniority is unknown: {points} points."
    elif keyword is None:
        reason = f"No seniority keyword in the title, so individual contributor: {points} points."
    else:
        reason = f"Title keyword '{keyword}' means {seniority}: {points} points."
    title = (facts.title or "").strip() or None
    return _factor("fit", "seniority", title, points, table.max_points, reason)


def _per_item(factor: str, count: int, noun: str, per: int, cap: int) -> ScoreFactor:
    """Engagement points per counted item (touches, channels), up to a cap."""
    points, value = min(cap, count * per), _plural(count, noun)
    if count == 0:
        return _factor("engagement", factor, None, 0, cap, f"No {factor} yet: no points.")
    reason = f"{value} at {per} points each (cap {cap}): {points} points."
    return _factor("engagement", factor, value, points, cap, reason)


def _recency(facts: LeadFacts, rules: ScoringRules, now: datetime) -> ScoreFactor:
    """Points for how recently the lead was active, by the first recency band that holds it."""
    recency = rules.engagement.recency
    if facts.last_activity_at is None:
        return _factor("engagement", "recency", None, 0, recency.max_points, "No recorded activity: no points.")
    # Activity stamped after `now` (clock skew) counts as happening now.
    elapsed = max(now - facts.last_activity_at, timedelta(0))
    value = "less than a day ago" if elapsed.days == 0 else f"{_plural(elapsed.days, 'day')} ago"
    band = next((b for b in recency.bands if elapsed <= timedelta(days=b.within_days)), None)
    if band is None:
        reason = f"Last activity {value}, older than every recency band: no points."
        return _factor("engagement", "recency", value, 0, recency.max_points, reason)
    reason = f"Last activity {value}, within {_plural(band.within_days, 'day')}: {band.points} points."
    return _factor("engagement", "recency", value, band.points, recency.max_points, reason)


def _interactions(facts: LeadFacts, rules: ScoringRules) -> ScoreFactor:
    """Points per interaction plus a bonus per inbound one, up to a cap."""
    table = rules.engagement.interactions
    total, inbound = facts.interaction_count, facts.inbound_interaction_count
    if total == 0:
        return _factor("engagement", "interactions", None, 0, table.max_points, "No interactions yet: no points.")
    points = min(table.max_points, total * table.points_per_interaction + inbound * table.points_per_inbound)
    value = f"{_plural(total, 'interaction')} ({inbound} inbound)"
    reason = (
        f"{_plural(total, 'interaction')} at {table.points_per_interaction} points each plus "
        f"{table.points_per_inbound} per inbound one (cap {table.max_points}): {points} points."
    )
    return _factor("engagement", "interactions", value, points, table.max_points, reason)


def _signals(facts: LeadFacts, rules: ScoringRules) -> ScoreFactor:
    """Points for the intent and sentiment of the latest analysed interaction, within +/- ``max_points``."""
    table = rules.engagement.signals
    if facts.latest_intent is None and facts.latest_sentiment is None:
        return _factor("engagement", "signals", None, 0, table.max_points, "No analysed interaction yet: no points.")
    intent = table.intent_points.get(facts.latest_intent or "", 0)
    mood = table.sentiment_points.get(facts.latest_sentiment or "", 0)
    points = max(-table.max_points, min(table.max_points, intent + mood))
    value = f"intent {facts.latest_intent or 'unknown'}, sentiment {facts.latest_sentiment or 'unknown'}"
    reason = (
        f"Latest interaction reads as intent '{facts.latest_intent}' ({intent:+d}) with "
        f"{facts.latest_sentiment} sentiment ({mood:+d}), within ±{table.max_points}: {points:+d} points."
    )
    return _factor("engagement", "signals", value, points, table.max_points, reason)


def _engagement_factors(facts: LeadFacts, rules: ScoringRules, now: datetime) -> list[ScoreFactor]:
    """Score what the lead did: touches, recency of activity, distinct channels and interactions."""
    touches, channels = rules.engagement.touches, rules.engagement.channels
    distinct = sorted({key for key in (normalize_key(c) for c in facts.touch_channels) if key})
    channel_factor = _per_item("channels", len(distinct), "channel", channels.points_per_channel, channels.max_points)
    return [
        _per_item("touches", facts.touch_count, "touch", touches.points_per_touch, touches.max_points),
        _recency(facts, rules, now),
        channel_factor.model_copy(update={"value": ", ".join(distinct) or None}),
        _interactions(facts, rules),
        _signals(facts, rules),
    ]


def _qualification_factors(facts: LeadFacts, rules: ScoringRules) -> list[ScoreFactor]:
    """Score each qualification question the rules know, answered or not."""
    factors = []
    for question, choices in rules.qualification.answers.items():
        answer = (facts.qualification.get(question) or "").strip() or None
        points = choices.get(answer, 0) if answer else 0
        label = question.capitalize()
        if answer is None:
            reason = f"{label} not answered: no points."
        elif answer not in choices:
            reason = f"{label} answer '{answer}' is not a known choice: no points."
        else:
            reason = f"{label} answered '{answer}': {points} points."
        top = max(choices.values(), default=0)
        factors.append(_factor("qualification", question, answer, points, top, reason))
    return factors


def _cap(group: FactorGroup, factors: list[ScoreFactor], cap: int) -> list[ScoreFactor]:
    """Append a negative ``<group>_cap`` factor when the group exceeds its cap, so points sum to the cap."""
    total = sum(f.points for f in factors)
    if total <= cap:
        return factors
    excess = total - cap
    reason = f"{group.capitalize()} is capped at {cap} points: {excess} points over the cap are dropped."
    return [*factors, _factor(group, f"{group}_cap", f"{total} points", -excess, 0, reason)]


def _adjustment_factor(adjustment: int) -> ScoreFactor:
    """Explain the manual/flow score adjustment (may be negative)."""
    if adjustment > 0:
        reason = f"Manual and flow score adjustments add {adjustment} points."
    elif adjustment < 0:
        reason = f"Manual and flow score adjustments remove {-adjustment} points."
    else:
        reason = "No manual or flow score adjustments."
    return _factor("adjustment", "score_adjustment", f"{adjustment:+d}", adjustment, 0, reason)


def _stage(facts: LeadFacts, rules: ScoringRules, score: int, answers: dict[str, int]) -> tuple[LifecycleStage, str]:
    """Apply the stage rule from the module docstring."""
    if facts.current_stage in MANUAL_STAGES:
        return facts.current_stage, (
            f"Stage '{facts.current_stage}' was set by a person (a deal decision); scoring never changes it."
        )
    if facts.subscribed_only and facts.interaction_count == 0:
        return "subscriber", "Signed up only as a subscriber and has no interactions yet."
    stages = rules.stages
    missing = [q for q in stages.sql_requires if answers.get(q, 0) <= 0]
    required = ", ".join(stages.sql_requires) or "no questions"
    if score >= stages.sql_min_score and not missing:
        return "sql", (
            f"Score {score} reaches the SQL threshold ({stages.sql_min_score}) and the required answers "
            f"({required}) are positive."
        )
    if score >= stages.mql_min_score:
        why = (
            f"the score is below the SQL threshold ({stages.sql_min_score})"
            if score < stages.sql_min_score
            else f"these answers are missing or not positive: {', '.join(missing)}"
        )
        return (
            "mql",
            f"Score {score} reaches the MQL threshold ({stages.mql_min_score}); not SQL because {why}.",
        )
    return "lead", f"Score {score} is below the MQL threshold ({stages.mql_min_score})."


def classify(facts: LeadFacts, rules: ScoringRules, *, now: datetime) -> Classification:
    """Classify one lead under ``rules`` as of ``now`` (aware); deterministic for the same inputs."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    seniority, keyword = rules.fit.seniority.keywords.match(facts.title)
    fit_factors = [
        _industry(facts, rules),
        _company_size(facts, rules),
        _region(facts, rules),
        _seniority(facts, rules, seniority, keyword),
    ]
    fit = _cap("fit", fit_factors, rules.fit.max_points)
    engagement = _cap("engagement", _engagement_factors(facts, rules, now), rules.engagement.max_points)
    answers = _qualification_factors(facts, rules)
    qualification = _cap("qualification", answers, rules.qualification.max_points)
    factors = (*fit, *engagement, *qualification, _adjustment_factor(facts.score_adjustment))
    score = max(0, min(100, sum(f.points for f in factors)))
    stage, stage_reason = _stage(facts, rules, score, {f.factor: f.points for f in answers})
    return Classification(
        stage=stage,
        score=score,
        fit_score=sum(f.points for f in fit),
        engagement_score=sum(f.points for f in engagement),
        qualification_score=sum(f.points for f in qualification),
        purchase_potential=rules.potential.level(score, facts.qualification.get("budget")),
        customer_type=rules.customer_type.type_for(facts.employee_count, bool(normalize_key(facts.industry or ""))),
        seniority=seniority,
        factors=factors,
        stage_reason=stage_reason,
        rules_version=rules.version,
    )

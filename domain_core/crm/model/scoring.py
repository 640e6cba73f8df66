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
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from promptsales.domain_core.crm.model.scoring_rules import (
    ScoringRules,
    default_scoring_rules,
    merge_rule_overrides,
    normalize_key,
    words,
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
# Highest first: when a title matches several levels ("CEO & Head of Sales") the most senior wins.
_SENIORITY_RANK: tuple[Seniority, ...] = get_args(Seniority)
_KEYWORD_LEVELS: tuple[Seniority, ...] = ("c_level", "vp", "director", "manager", "individual_contributor")


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


def _match_seniority(title: str | None, rules: ScoringRules) -> tuple[Seniority, str | None]:
    """Return the seniority a title implies and the keyword that decided it (None if no keyword)."""
    if title is None or not title.strip():
        return "unknown", None
    tokens = words(title)
    matches: list[tuple[int, int, Seniority, str]] = []
    for level in _KEYWORD_LEVELS:
        for keyword in getattr(rules.fit.seniority.keywords, level):
            phrase = words(keyword)
            for start in range(len(tokens) - len(phrase) + 1):
                if tokens[start : start + len(phrase)] == phrase:
                    matches.append((start, start + len(phrase), level, keyword))
    # A phrase beats the words inside it: "vice president" is vp, not the c_level "president".
    kept = [
        m
        for m in matches
        if not any(o[0] <= m[0] and m[1] <= o[1] and o[1] - o[0] > m[1] - m[0] for o in matches)
    ]
    if not kept:
        return "individual_contributor", None
    best = min(kept, key=lambda m: (_SENIORITY_RANK.index(m[2]), m[0]))
    return best[2], best[3]


def infer_seniority(title: str | None, rules: ScoringRules) -> Seniority:
    """Infer seniority from a job title with the rules' keywords (whole words, accents and case ignored)."""
    return _match_seniority(title, rules)[0]


def _plural(count: int, noun: str) -> str:
    """Return "1 touch" / "3 touches" style text."""
    suffix = "es" if noun.endswith(("ch", "s")) else "s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}{suffix}"


def _fit_factors(facts: LeadFacts, rules: ScoringRules, seniority: Seniority, keyword: str | None) -> list[ScoreFactor]:
    """Score who the lead is: industry, company size, region and seniority."""
    fit = rules.fit
    industry = normalize_key(facts.industry or "")
    if not industry:
        ind_points, ind_reason = 0, "Industry unknown: no points."
    elif industry in fit.industry.points:
        ind_points = fit.industry.points[industry]
        ind_reason = f"Industry '{industry}' is scored {ind_points} points."
    else:
        ind_points = fit.industry.default_points
        ind_reason = f"Industry '{industry}' is not listed: default {ind_points} points."

    size, size_points = facts.employee_count, 0
    if size is None:
        size_reason = "Company size unknown: no points."
    else:
        band = next((b for b in fit.company_size.bands if b.min <= size and (b.max is None or size <= b.max)), None)
        if band is None:
            size_reason = f"{_plural(size, 'employee')} is outside every size band: no points."
        else:
            size_points = band.points
            span = f"{band.min}+" if band.max is None else f"{band.min}-{band.max}"
            size_reason = f"{_plural(size, 'employee')} falls in the {span} band: {size_points} points."

    country, region = facts.country, normalize_key(facts.region or "")
    regional = fit.region.regions.get(country, {}) if country else {}
    if country is None:
        reg_points, reg_reason = 0, "Country unknown: no points."
    elif region in regional:
        reg_points = regional[region]
        reg_reason = f"Region '{region}' of {country} is scored {reg_points} points."
    elif country in fit.region.countries:
        reg_points = fit.region.countries[country]
        reg_reason = f"Country {country} is scored {reg_points} points."
    else:
        reg_points = fit.region.default_points
        reg_reason = f"Country {country} is not listed: default {reg_points} points."
    reg_value = "/".join(part for part in (country, region) if part) or None

    sen_points: int = getattr(fit.seniority.points, seniority)
    if seniority == "unknown":
        sen_reason = f"No job title, so seniority is unknown: {sen_points} points."
    elif keyword is None:
        sen_reason = f"No seniority keyword in the title, so individual contributor: {sen_points} points."
    else:
        sen_reason = f"Title keyword '{keyword}' means {seniority}: {sen_points} points."
    return [
        ScoreFactor(
            group="fit",
            factor="industry",
            value=industry or None,
            points=ind_points,
            max_points=fit.industry.max_points,
            reason=ind_reason,
        ),
        ScoreFactor(
            group="fit",
            factor="company_size",
            value=None if size is None else _plural(size, "employee"),
            points=size_points,
            max_points=fit.company_size.max_points,
            reason=size_reason,
        ),
        ScoreFactor(
            group="fit",
            factor="region",
            value=reg_value,
            points=reg_points,
            max_points=fit.region.max_points,
            reason=reg_reason,
        ),
        ScoreFactor(
            group="fit",
            factor="seniority",
            value=(facts.title or "").strip() or None,
            points=sen_points,
            max_points=fit.seniority.max_points,
            reason=sen_reason,
        ),
    ]


def _capped(group: FactorGroup, count: int, noun: str, per: int, cap: int, total: int) -> ScoreFactor:
    """Build a count-based factor ("3 touches at 3 points each, capped at 10")."""
    points = min(cap, total)
    reason = f"No {noun}s yet: no points." if count == 0 else f"{_plural(count, noun)} at {per} points each"
    if count:
        reason += f", capped at {cap}: {points} points." if total > cap else f": {points} points."
    return ScoreFactor(
        group=group,
        factor=f"{noun}es" if noun.endswith("ch") else f"{noun}s",
        value=_plural(count, noun) if count else None,
        points=points,
        max_points=cap,
        reason=reason,
    )


def _engagement_factors(facts: LeadFacts, rules: ScoringRules, now: datetime) -> list[ScoreFactor]:
    """Score what the lead did: touches, recency of activity, distinct channels and interactions."""
    eng = rules.engagement
    touches = _capped(
        "engagement",
        facts.touch_count,
        "touch",
        eng.touches.points_per_touch,
        eng.touches.max_points,
        facts.touch_count * eng.touches.points_per_touch,
    )

    rec_points, rec_value = 0, None
    if facts.last_activity_at is None:
        rec_reason = "No recorded activity: no points."
    else:
        # Activity stamped after `now` (clock skew) counts as happening now.
        elapsed = max(now - facts.last_activity_at, timedelta(0))
        rec_value = "less than a day ago" if elapsed.days == 0 else f"{_plural(elapsed.days, 'day')} ago"
        band = next((b for b in eng.recency.bands if elapsed <= timedelta(days=b.within_days)), None)
        if band is None:
            rec_reason = f"Last activity {rec_value}, older than every recency band: no points."
        else:
            rec_points = band.points
            rec_reason = f"Last activity {rec_value}, within {band.within_days} days: {rec_points} points."

    channels = sorted({key for key in (normalize_key(c) for c in facts.touch_channels) if key})
    per_channel, channel_cap = eng.channels.points_per_channel, eng.channels.max_points
    channel_points = min(channel_cap, len(channels) * per_channel)
    channel_reason = (
        "No source channels known: no points."
        if not channels
        else f"{_plural(len(channels), 'distinct channel')} at {per_channel} points each, "
        f"capped at {channel_cap}: {channel_points} points."
    )

    inter = eng.interactions
    total, inbound = facts.interaction_count, facts.inbound_interaction_count
    inter_points = min(inter.max_points, total * inter.points_per_interaction + inbound * inter.points_per_inbound)
    inter_reason = (
        "No interactions yet: no points."
        if total == 0
        else f"{_plural(total, 'interaction')} at {inter.points_per_interaction} points each plus "
        f"{inter.points_per_inbound} per inbound one, capped at {inter.max_points}: {inter_points} points."
    )
    return [
        touches,
        ScoreFactor(
            group="engagement",
            factor="recency",
            value=rec_value,
            points=rec_points,
            max_points=eng.recency.max_points,
            reason=rec_reason,
        ),
        ScoreFactor(
            group="engagement",
            factor="channels",
            value=", ".join(channels) or None,
            points=channel_points,
            max_points=channel_cap,
            reason=channel_reason,
        ),
        ScoreFactor(
            group="engagement",
            factor="interactions",
            value=f"{_plural(total, 'interaction')} ({inbound} inbound)" if total else None,
            points=inter_points,
            max_points=inter.max_points,
            reason=inter_reason,
        ),
    ]


def _qualification_factors(facts: LeadFacts, rules: ScoringRules) -> list[ScoreFactor]:
    """Score each qualification question the rules know, answered or not."""
    factors = []
    for question, choices in rules.qualification.answers.items():
        answer = (facts.qualification.get(question) or "").strip() or None
        points = choices.get(answer, 0) if answer else 0
        if answer is None:
            reason = f"{question.capitalize()} not answered: no points."
        elif answer not in choices:
            reason = f"{question.capitalize()} answer '{answer}' is not a known choice: no points."
        else:
            reason = f"{question.capitalize()} answered '{answer}': {points} points."
        factors.append(
            ScoreFactor(
                group="qualification",
                factor=question,
                value=answer,
                points=points,
                max_points=max(choices.values(), default=0),
                reason=reason,
            )
        )
    return factors


def _cap(group: FactorGroup, factors: list[ScoreFactor], cap: int) -> list[ScoreFactor]:
    """Add a negative ``<group>_cap`` factor when the group's points exceed its cap; the sum then equals it."""
    total = sum(f.points for f in factors)
    if total <= cap:
        return factors
    excess = total - cap
    reason = f"{group.capitalize()} is capped at {cap} points: {excess} points over the cap are dropped."
    correction = ScoreFactor(
        group=group, factor=f"{group}_cap", value=f"{total} points", points=-excess, max_points=0, reason=reason
    )
    return [*factors, correction]


def _adjustment_factor(adjustment: int) -> ScoreFactor:
    """Explain the manual/flow score adjustment (may be negative)."""
    if adjustment > 0:
        reason = f"Manual and flow score adjustments add {adjustment} points."
    elif adjustment < 0:
        reason = f"Manual and flow score adjustments remove {-adjustment} points."
    else:
        reason = "No manual or flow score adjustments."
    return ScoreFactor(
        group="adjustment",
        factor="score_adjustment",
        value=f"{adjustment:+d}",
        points=adjustment,
        max_points=0,
        reason=reason,
    )


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
        return "mql", f"Score {score} reaches the MQL threshold ({stages.mql_min_score}); not SQL because {why}."
    return "lead", f"Score {score} is below the MQL threshold ({stages.mql_min_score})."


def _potential(facts: LeadFacts, rules: ScoringRules, score: int) -> PurchasePotential:
    """High on score or a high budget answer, medium on score, else low."""
    budget = (facts.qualification.get("budget") or "").strip()
    if score >= rules.potential.high_min_score or budget in rules.potential.high_budgets:
        return "high"
    return "medium" if score >= rules.potential.medium_min_score else "low"


def _customer_type(facts: LeadFacts, rules: ScoringRules) -> CustomerType:
    """Customer type from the employee-count bands, with fallbacks for unknown sizes and no company."""
    ct = rules.customer_type
    size = facts.employee_count
    if size is None:
        return ct.unknown_size_type if normalize_key(facts.industry or "") else ct.no_company_type
    band = next((b for b in ct.bands if b.min <= size and (b.max is None or size <= b.max)), None)
    return ct.unknown_size_type if band is None else band.type


def classify(facts: LeadFacts, rules: ScoringRules, *, now: datetime) -> Classification:
    """Classify one lead under ``rules`` as of ``now`` (aware); deterministic for the same inputs."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    seniority, keyword = _match_seniority(facts.title, rules)
    fit = _cap("fit", _fit_factors(facts, rules, seniority, keyword), rules.fit.max_points)
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
        purchase_potential=_potential(facts, rules, score),
        customer_type=_customer_type(facts, rules),
        seniority=seniority,
        factors=factors,
        stage_reason=stage_reason,
        rules_version=rules.version,
    )

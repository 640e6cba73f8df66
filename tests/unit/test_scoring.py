"""Lead scoring: score, stage, potential, customer type and explanations under default and tenant rules."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from promptsales.domain_core.crm.model.scoring import (
    Classification,
    LeadFacts,
    ScoringRules,
    classify,
    default_scoring_rules,
    infer_seniority,
    merge_rule_overrides,
)
from promptsales.domain_core.crm.model.vocabulary import (
    INTERACTION_CHANNELS,
    LIFECYCLE_ORDER,
    SOURCE_CHANNELS,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
RULES = default_scoring_rules()
POSITIVE_BANT = {
    "budget": "over_50k",
    "authority": "decision_maker",
    "need": "urgent",
    "timeline": "this_quarter",
}
FIT_FACTORS = ["industry", "company_size", "region", "seniority"]
ENGAGEMENT_FACTORS = ["touches", "recency", "channels", "interactions", "signals"]
BANT_FACTORS = ["budget", "authority", "need", "timeline"]


def enterprise_vp(**changes: Any) -> LeadFacts:
    """A strong-fit enterprise VP with recent multi-channel engagement."""
    facts: dict[str, Any] = {
        "industry": "Software",
        "employee_count": 1500,
        "country": "US",
        "title": "VP of Sales",
        "touch_count": 3,
        "touch_channels": ("web_form", "event"),
        "last_activity_at": NOW - timedelta(hours=20),
        "interaction_count": 4,
        "inbound_interaction_count": 2,
    }
    return LeadFacts(**(facts | changes))


def raw_points(result: Classification) -> int:
    """Sum of every factor's points: the score before clamping."""
    return sum(f.points for f in result.factors)


def rules_dict(**overrides: Any) -> dict[str, Any]:
    """The default rules as JSON-like data with top-level sections replaced."""
    return RULES.model_dump(mode="json") | overrides


# --- defaults ---------------------------------------------------------------------------------------


def test_default_rules_load_once_and_are_consistent() -> None:
    assert default_scoring_rules() is default_scoring_rules()
    assert RULES.version >= 1
    fit, eng = RULES.fit, RULES.engagement
    assert (fit.max_points, eng.max_points) == (50, 50)
    # The factor maxima fill each group exactly, so the default group caps never hide points.
    fit_parts = (fit.industry, fit.company_size, fit.region, fit.seniority)
    engagement_parts = (eng.touches, eng.recency, eng.channels, eng.interactions)
    assert sum(part.max_points for part in fit_parts) == fit.max_points
    assert sum(part.max_points for part in engagement_parts) == eng.max_points
    assert sum(max(c.values()) for c in RULES.qualification.answers.values()) == RULES.qualification.max_points
    assert ScoringRules.model_validate(RULES.model_dump(mode="json")) == RULES


# --- headline scenarios -------------------------------------------------------------------------------


def test_enterprise_vp_scores_high_but_is_mql_without_bant() -> None:
    result = classify(enterprise_vp(), RULES, now=NOW)
    assert result.score >= 90
    assert (result.fit_score, result.qualification_score) == (50, 0)
    assert result.stage == "mql"
    assert "budget, authority, need" in result.stage_reason
    assert result.purchase_potential == "high"
    assert result.customer_type == "enterprise"
    assert result.seniority == "vp"
    assert result.rules_version == RULES.version


def test_enterprise_vp_with_positive_bant_is_sql() -> None:
    result = classify(enterprise_vp(qualification=POSITIVE_BANT), RULES, now=NOW)
    assert result.stage == "sql"
    assert result.score == 100
    assert result.qualification_score == 8 + 7 + 5 + 4
    assert "SQL threshold" in result.stage_reason


@pytest.mark.parametrize(
    ("answers", "missing"),
    [
        ({"budget": "over_50k", "authority": "no", "need": "urgent"}, "authority"),
        ({"budget": "unknown", "authority": "decision_maker", "need": "urgent"}, "budget"),
        ({"budget": "over_50k", "authority": "decision_maker"}, "need"),
        ({"budget": "over_50k", "authority": "decision_maker", "need": "bogus"}, "need"),
    ],
)
def test_sql_needs_every_required_answer_positive(answers: dict[str, str], missing: str) -> None:
    result = classify(enterprise_vp(qualification=answers), RULES, now=NOW)
    assert result.stage == "mql"
    assert missing in result.stage_reason


def test_sql_needs_the_score_too() -> None:
    weak = LeadFacts(qualification=POSITIVE_BANT)
    result = classify(weak, RULES, now=NOW)
    assert result.score == 8 + 7 + 5 + 4
    assert result.stage == "lead"
    # A high budget answer alone makes the potential high.
    assert result.purchase_potential == "high"


def test_bare_email_subscriber() -> None:
    facts = LeadFacts(touch_count=1, touch_channels=("web_form",), last_activity_at=NOW, subscribed_only=True)
    result = classify(facts, RULES, now=NOW)
    assert result.stage == "subscriber"
    assert result.purchase_potential == "low"
    assert result.customer_type == "individual"
    assert result.seniority == "unknown"
    assert result.fit_score == 0
    assert result.score == 3 + 15 + 4
    assert "subscriber" in result.stage_reason


def test_subscriber_who_interacts_is_scored_into_a_normal_stage() -> None:
    facts = LeadFacts(subscribed_only=True, interaction_count=1, inbound_interaction_count=1)
    assert classify(facts, RULES, now=NOW).stage == "lead"


# --- explanation ----------------------------------------------------------------------------------------


def test_explanation_lists_every_factor_and_sums_to_the_score() -> None:
    result = classify(enterprise_vp(qualification={"budget": "1k_10k"}, score_adjustment=-7), RULES, now=NOW)
    names = [f.factor for f in result.factors]
    assert names == [*FIT_FACTORS, *ENGAGEMENT_FACTORS, *BANT_FACTORS, "score_adjustment"]
    groups = [f.group for f in result.factors]
    assert groups == ["fit"] * 4 + ["engagement"] * 5 + ["qualification"] * 4 + ["adjustment"]
    assert raw_points(result) == result.score == 50 + 44 + 4 - 7
    assert result.fit_score + result.engagement_score + result.qualification_score - 7 == result.score
    zeros = {f.factor for f in result.factors if f.points == 0}
    assert zeros == {"authority", "need", "timeline", "signals"}
    for factor in result.factors:
        assert factor.reason
        assert factor.points <= factor.max_points or factor.group == "adjustment"
    by_name = {f.factor: f for f in result.factors}
    assert by_name["company_size"].value == "1500 employees"
    assert by_name["touches"].value == "3 touches"
    assert by_name["channels"].value == "event, web_form"
    assert by_name["seniority"].reason == "Title keyword 'vp' means vp: 10 points."
    assert by_name["score_adjustment"].value == "-7"


def test_unknown_facts_give_zero_points_with_reasons() -> None:
    result = classify(LeadFacts(), RULES, now=NOW)
    assert result.score == 0
    assert result.stage == "lead"
    assert all(f.points == 0 for f in result.factors)
    assert all(f.value is None for f in result.factors if f.group != "adjustment")
    assert len(result.factors) == 14


@pytest.mark.parametrize(
    ("industry", "points"),
    [("Software", 15), (" Financial-Services ", 12), ("real estate", 9), ("Tecnología", 14), ("Mining", 5)],
)
def test_industry_matches_normalized_keys(industry: str, points: int) -> None:
    result = classify(LeadFacts(industry=industry), RULES, now=NOW)
    assert result.factors[0].points == points


@pytest.mark.parametrize(
    ("country", "region", "points"),
    [
        ("MX", "Jalisco", 10),
        ("MX", "Ciudad de México", 10),
        ("MX", "Sonora", 9),
        ("MX", None, 9),
        ("KE", None, 4),
    ],
)
def test_region_points_by_country_then_region(country: str, region: str | None, points: int) -> None:
    result = classify(LeadFacts(country=country, region=region), RULES, now=NOW)
    assert result.factors[2].points == points


# --- recency --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "points", "value"),
    [
        (timedelta(0), 15, "less than a day ago"),
        (timedelta(hours=23), 15, "less than a day ago"),
        (timedelta(days=1), 15, "1 day ago"),
        (timedelta(days=1, seconds=1), 12, "1 day ago"),
        (timedelta(days=3), 12, "3 days ago"),
        (timedelta(days=6), 10, "6 days ago"),
        (timedelta(days=14), 7, "14 days ago"),
        (timedelta(days=30), 5, "30 days ago"),
        (timedelta(days=90), 2, "90 days ago"),
        (timedelta(days=91), 0, "91 days ago"),
        (-timedelta(hours=2), 15, "less than a day ago"),
    ],
)
def test_recency_bands_are_relative_to_now(age: timedelta, points: int, value: str) -> None:
    facts = LeadFacts(last_activity_at=NOW - age)
    recency = classify(facts, RULES, now=NOW).factors[5]
    assert (recency.factor, recency.points, recency.value) == ("recency", points, value)
    # The same activity judged a year later is worth nothing: only `now` moved.
    assert classify(facts, RULES, now=NOW + timedelta(days=365)).factors[5].points == 0


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(LeadFacts(), RULES, now=datetime(2025, 1, 1))


# --- stages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["opportunity", "customer"])
def test_manual_stage_is_kept_whatever_the_score(stage: str) -> None:
    for facts in (LeadFacts(current_stage=stage, subscribed_only=True), enterprise_vp(current_stage=stage)):
        result = classify(facts, RULES, now=NOW)
        assert result.stage == stage
        assert stage in result.stage_reason
        assert "set by a person" in result.stage_reason


def test_non_manual_stage_is_recomputed_from_facts() -> None:
    assert classify(LeadFacts(current_stage="sql"), RULES, now=NOW).stage == "lead"


def test_mql_threshold_boundary() -> None:
    rules = merge_rule_overrides(RULES, {"stages": {"mql_min_score": 22}})
    facts = LeadFacts(touch_count=1, touch_channels=("web_form",), last_activity_at=NOW)
    assert classify(facts, rules, now=NOW).stage == "mql"
    assert classify(facts.model_copy(update={"score_adjustment": -1}), rules, now=NOW).stage == "lead"


# --- seniority ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("CEO", "c_level"),
        ("Co-Founder & CTO", "c_level"),
        ("Founder", "c_level"),
        ("Owner", "c_level"),
        ("President", "c_level"),
        ("Chief of Staff", "c_level"),
        ("Vice President of Marketing", "vp"),
        ("SVP Sales", "vp"),
        ("VP, Head of Growth", "vp"),
        ("Sales Director", "director"),
        ("Head of Operations", "director"),
        ("Marketing Manager", "manager"),
        ("Lead Engineer", "manager"),
        ("Team Lead", "manager"),
        ("Product Owner", "manager"),
        ("Lead Generation Specialist", "individual_contributor"),
        ("Leadership Coach", "individual_contributor"),
        ("Software Engineer", "individual_contributor"),
        ("Account Executive", "individual_contributor"),
        ("Director General", "c_level"),
        ("Directora General", "c_level"),
        ("Gerente General", "c_level"),
        ("Dueño", "c_level"),
        ("dueña del negocio", "c_level"),
        ("Fundador y CEO", "c_level"),
        ("Vicepresidente Comercial", "vp"),
        ("Director de Ventas", "director"),
        ("Directora de Marketing", "director"),
        ("Gerente de Ventas", "manager"),
        ("Jefe de Compras", "manager"),
        ("Líder de Equipo", "manager"),
        ("Ejecutivo de cuenta", "individual_contributor"),
        ("  ", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_infer_seniority(title: str | None, seniority: str) -> None:
    assert infer_seniority(title, RULES) == seniority


def test_seniority_keywords_are_tenant_data() -> None:
    rules = merge_rule_overrides(RULES, {"fit": {"seniority": {"keywords": {"vp": ["vp", "chief of staff"]}}}})
    assert infer_seniority("Chief of Staff", rules) == "vp"


# --- determinism, clamping, caps ----------------------------------------------------------------------


def test_same_input_gives_identical_result() -> None:
    facts = enterprise_vp(qualification={"budget": "10k_50k", "need": "important"})
    first, second = classify(facts, RULES, now=NOW), classify(facts, RULES, now=NOW)
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


@pytest.mark.parametrize(("adjustment", "score"), [(500, 100), (-500, 0), (-94, 0), (-93, 1), (6, 100)])
def test_score_is_clamped_but_factors_keep_the_raw_sum(adjustment: int, score: int) -> None:
    result = classify(enterprise_vp(score_adjustment=adjustment), RULES, now=NOW)
    assert result.score == score
    assert raw_points(result) == 94 + adjustment


def test_group_cap_is_explained_by_a_negative_factor() -> None:
    rules = merge_rule_overrides(RULES, {"fit": {"max_points": 30}, "qualification": {"max_points": 10}})
    result = classify(enterprise_vp(qualification=POSITIVE_BANT), rules, now=NOW)
    assert (result.fit_score, result.qualification_score) == (30, 10)
    caps = {f.factor: f for f in result.factors if f.factor.endswith("_cap")}
    assert set(caps) == {"fit_cap", "qualification_cap"}
    assert (caps["fit_cap"].points, caps["fit_cap"].group) == (-20, "fit")
    assert caps["qualification_cap"].points == -14
    assert raw_points(result) == 30 + 44 + 10


# --- tenant overrides -------------------------------------------------------------------------------------


def test_tenant_overrides_change_results() -> None:
    tenant = merge_rule_overrides(
        RULES,
        {
            "version": 7,
            "fit": {"industry": {"points": {"software": 2}}, "region": {"countries": {"US": 0}}},
            "stages": {"mql_min_score": 90, "sql_min_score": 95},
            "potential": {"high_min_score": 99, "medium_min_score": 50},
        },
    )
    default, custom = classify(enterprise_vp(), RULES, now=NOW), classify(enterprise_vp(), tenant, now=NOW)
    assert default.score == 94
    assert custom.score == 94 - 13 - 10
    assert (custom.stage, custom.purchase_potential, custom.rules_version) == ("lead", "medium", 7)
    # Overrides merge: untouched industries keep their default points.
    assert tenant.fit.industry.points["fintech"] == RULES.fit.industry.points["fintech"]


def test_customer_type_bands_are_data() -> None:
    tenant = merge_rule_overrides(
        RULES,
        {"customer_type": {"bands": [{"min": 1, "max": 49, "type": "smb"}, {"min": 50, "type": "enterprise"}]}},
    )
    assert classify(LeadFacts(employee_count=60), RULES, now=NOW).customer_type == "smb"
    assert classify(LeadFacts(employee_count=60), tenant, now=NOW).customer_type == "enterprise"


@pytest.mark.parametrize(
    ("employees", "industry", "customer_type"),
    [
        (5000, None, "enterprise"),
        (1000, None, "enterprise"),
        (999, None, "mid_market"),
        (100, None, "mid_market"),
        (99, None, "smb"),
        (1, None, "smb"),
        (0, None, "smb"),
        (None, "Retail", "smb"),
        (None, None, "individual"),
    ],
)
def test_customer_type(employees: int | None, industry: str | None, customer_type: str) -> None:
    facts = LeadFacts(employee_count=employees, industry=industry)
    assert classify(facts, RULES, now=NOW).customer_type == customer_type


# --- validation -----------------------------------------------------------------------------------------


def _error(data: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    """The location and message of the single validation error ``data`` raises."""
    with pytest.raises(ValidationError) as caught:
        ScoringRules.model_validate(data)
    errors = caught.value.errors()
    assert len(errors) == 1, errors
    return errors[0]["loc"], errors[0]["msg"]


def _patched(path: str, value: Any) -> dict[str, Any]:
    """Default rules data with the dotted ``path`` set to ``value``."""
    data = rules_dict()
    *parents, leaf = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[leaf] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "loc", "message"),
    [
        ("stages.mql_min_score", 65, ("stages",), "mql_min_score (65) must be below sql_min_score (65)"),
        ("stages.sql_min_score", 101, ("stages", "sql_min_score"), "less than or equal to 100"),
        ("stages.sql_requires", ["budget", "budgett"], ("stages",), "budgett"),
        ("potential.medium_min_score", 80, ("potential",), "medium_min_score (80) must be below"),
        ("potential.high_budgets", ["lots"], ("potential",), "lots"),
        (
            "fit.industry.points.software",
            -1,
            ("fit", "industry", "points", "software"),
            "greater than or equal",
        ),
        ("fit.region.countries.usa", 3, ("fit", "region", "countries", "usa", "[key]"), "pattern"),
        ("engagement.touches.points_per_touch", -3, ("engagement", "touches", "points_per_touch"), "greater"),
        (
            "qualification.answers.budget.over_50k",
            -8,
            ("qualification", "answers", "budget", "over_50k"),
            "greater",
        ),
        ("fit.max_point", 50, ("fit", "max_point"), "Extra inputs"),
        ("version", 0, ("version",), "greater than or equal to 1"),
    ],
)
def test_rules_validation_names_the_field(path: str, value: Any, loc: tuple[str, ...], message: str) -> None:
    got_loc, got_message = _error(_patched(path, value))
    assert got_loc == loc
    assert message in got_message


def test_band_validation() -> None:
    overlap = [{"min": 1, "max": 10, "points": 3}, {"min": 10, "max": 50, "points": 7}]
    loc, message = _error(_patched("fit.company_size.bands", overlap))
    assert loc == ("fit", "company_size", "bands")
    assert "band 1" in message
    unsorted = [{"min": 11, "max": 50, "points": 7}, {"min": 1, "max": 10, "points": 3}]
    assert _error(_patched("fit.company_size.bands", unsorted))[0] == ("fit", "company_size", "bands")
    open_middle = [{"min": 1, "type": "smb"}, {"min": 100, "type": "enterprise"}]
    loc, message = _error(_patched("customer_type.bands", open_middle))
    assert (loc, "open-ended" in message) == (("customer_type", "bands"), True)
    inverted = [{"min": 10, "max": 1, "points": 3}]
    assert "below min" in _error(_patched("fit.company_size.bands", inverted))[1]
    recency = [{"within_days": 7, "points": 10}, {"within_days": 3, "points": 12}]
    assert _error(_patched("engagement.recency.bands", recency))[0] == ("engagement", "recency", "bands")


def test_keyword_conflicts_and_key_collisions_are_rejected() -> None:
    keywords = RULES.fit.seniority.keywords.model_dump() | {"director": ["director", "Manager"]}
    loc, message = _error(_patched("fit.seniority.keywords", keywords))
    assert loc == ("fit", "seniority", "keywords")
    assert "listed under both director and manager" in message
    loc, message = _error(_patched("fit.industry.points", {"real estate": 9, "Real-Estate": 8}))
    assert loc == ("fit", "industry", "points")
    assert "real_estate" in message


def test_lead_facts_validation() -> None:
    assert LeadFacts(country=" mx ").country == "MX"
    assert LeadFacts(country="").country is None
    with pytest.raises(ValidationError) as caught:
        LeadFacts(country="USA")
    assert caught.value.errors()[0]["loc"] == ("country",)
    with pytest.raises(ValidationError, match="inbound_interaction_count"):
        LeadFacts(interaction_count=1, inbound_interaction_count=2)
    with pytest.raises(ValidationError) as caught:
        LeadFacts(last_activity_at=datetime(2025, 1, 1))
    assert caught.value.errors()[0]["loc"] == ("last_activity_at",)
    with pytest.raises(ValidationError):
        LeadFacts(touch_count=-1)
    with pytest.raises(ValidationError):
        LeadFacts(current_stage="prospect")


# --- property -------------------------------------------------------------------------------------------

_TITLES = ["CEO", "VP Sales", "Head of Data", "Gerente", "Lead Dev", "Analyst", "Dueño", "", None]
_INDUSTRIES = ["software", "Retail", "mining", "Tecnología", "", None]
_ANSWERS = {
    "budget": ["under_1k", "1k_10k", "10k_50k", "over_50k", "unknown", "junk"],
    "authority": ["decision_maker", "influencer", "no"],
    "need": ["urgent", "important", "exploring"],
    "timeline": ["this_month", "this_quarter", "this_year", "no_timeline"],
}


@st.composite
def lead_facts(draw: st.DrawFn) -> LeadFacts:
    """Random but valid facts, including extremes and junk free text."""
    interactions = draw(st.integers(0, 60))
    qualification = {key: draw(st.sampled_from(values)) for key, values in _ANSWERS.items() if draw(st.booleans())}
    return LeadFacts(
        industry=draw(st.one_of(st.sampled_from(_INDUSTRIES), st.text(max_size=20))),
        employee_count=draw(st.one_of(st.none(), st.integers(0, 200_000))),
        country=draw(st.one_of(st.none(), st.sampled_from(["US", "MX", "CO", "KE", "ES"]))),
        region=draw(st.one_of(st.none(), st.sampled_from(["Jalisco", "Bogotá", "Texas"]), st.text(max_size=10))),
        title=draw(st.one_of(st.sampled_from(_TITLES), st.text(max_size=30))),
        touch_count=draw(st.integers(0, 100)),
        touch_channels=tuple(draw(st.lists(st.sampled_from(SOURCE_CHANNELS + INTERACTION_CHANNELS), max_size=6))),
        last_activity_at=draw(
            st.one_of(st.none(), st.integers(-3_600, 400 * 86_400).map(lambda s: NOW - timedelta(seconds=s)))
        ),
        interaction_count=interactions,
        inbound_interaction_count=draw(st.integers(0, interactions)),
        qualification=qualification,
        score_adjustment=draw(st.integers(-300, 300)),
        current_stage=draw(st.one_of(st.none(), st.sampled_from(LIFECYCLE_ORDER))),
        subscribed_only=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(facts=lead_facts(), fit_cap=st.integers(0, 50))
def test_any_facts_give_a_bounded_explained_score(facts: LeadFacts, fit_cap: int) -> None:
    for rules in (RULES, merge_rule_overrides(RULES, {"fit": {"max_points": fit_cap}})):
        result = classify(facts, rules, now=NOW)
        assert 0 <= result.score <= 100
        raw = raw_points(result)
        assert raw == result.fit_score + result.engagement_score + result.qualification_score + facts.score_adjustment
        assert result.score == max(0, min(100, raw))
        assert result.fit_score <= rules.fit.max_points
        assert result.engagement_score <= rules.engagement.max_points
        assert result.qualification_score <= rules.qualification.max_points
        assert result.stage in LIFECYCLE_ORDER
        assert result.purchase_potential in ("low", "medium", "high")
        assert result == classify(facts, rules, now=NOW)
        if facts.current_stage in ("opportunity", "customer"):
            assert result.stage == facts.current_stage


@pytest.mark.parametrize(
    ("intent", "sentiment", "points"),
    [
        ("demo_request", "positive", 11),
        ("pricing", "neutral", 6),
        ("unsubscribe", "negative", -12),
        ("support", None, 0),
    ],
)
def test_the_latest_interactions_intent_and_sentiment_move_engagement(
    intent: str, sentiment: str | None, points: int
) -> None:
    result = classify(LeadFacts(interaction_count=1, latest_intent=intent, latest_sentiment=sentiment), RULES, now=NOW)
    signals = next(f for f in result.factors if f.factor == "signals")
    assert signals.points == points and signals.max_points == 12
    assert intent in signals.reason

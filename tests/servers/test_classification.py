"""Classification and scoring rules through the gateway: explained scores, tenant rules, validation paths."""

import json

MISSING_LEAD = "ld_01ARZ3NDEKTSV4RRFFQ69G5FAV"
EVERY_FACTOR = {
    ("fit", "industry"),
    ("fit", "company_size"),
    ("fit", "region"),
    ("fit", "seniority"),
    ("engagement", "touches"),
    ("engagement", "recency"),
    ("engagement", "channels"),
    ("engagement", "interactions"),
    ("engagement", "signals"),
    ("qualification", "budget"),
    ("qualification", "authority"),
    ("qualification", "need"),
    ("qualification", "timeline"),
    ("adjustment", "score_adjustment"),
}


def points(view: dict, group: str) -> int:
    return sum(f["points"] for f in view["factors"] if f["group"] == group)


async def test_classification_explains_every_factor_and_the_points_add_up(crm) -> None:
    lead = (await crm.strong_lead())["lead"]
    view = await crm.ok("classify_lead", lead_id=lead["id"])
    assert view["lead_id"] == lead["id"]
    assert {(f["group"], f["factor"]) for f in view["factors"]} == EVERY_FACTOR
    assert len(view["factors"]) == len(EVERY_FACTOR)
    total = sum(f["points"] for f in view["factors"])
    assert view["score"] == max(0, min(100, total))
    assert total < 100, "the profile should not be clamped, so the sum is exactly the score"
    assert view["score"] == total
    assert view["fit_score"] == points(view, "fit")
    assert view["engagement_score"] == points(view, "engagement")
    assert view["qualification_score"] == points(view, "qualification")
    for factor in view["factors"]:
        assert factor["reason"]
        if factor["group"] != "adjustment":
            assert 0 <= factor["points"] <= factor["max_points"]
    by_factor = {f["factor"]: f for f in view["factors"]}
    assert by_factor["industry"]["value"] == "software"
    assert by_factor["industry"]["points"] > 0
    assert by_factor["seniority"]["value"] == "CEO"
    assert view["seniority"] == "c_level"
    assert view["customer_type"] == "mid_market"
    assert view["stage"] == "mql"
    assert "budget" in view["stage_reason"]  # why it is not SQL yet
    assert view["rules_version"] == 1


async def test_classify_lead_is_deterministic_and_stored_on_the_lead(crm) -> None:
    lead = (await crm.strong_lead())["lead"]
    first = await crm.ok("classify_lead", lead_id=lead["id"])
    second = await crm.ok("classify_lead", lead_id=lead["id"])
    for key in ("stage", "score", "fit_score", "engagement_score", "purchase_potential", "customer_type", "factors"):
        assert first[key] == second[key]
    stored = await crm.ok("get_lead", lead_id=lead["id"])
    assert stored["score"] == second["score"]
    assert stored["classification"]["factors"] == second["factors"]
    assert second["previous_stage"] == first["stage"]


async def test_a_bare_lead_scores_low(crm) -> None:
    view = (await crm.lead("nobody@example.com"))["lead"]["classification"]
    assert view["fit_score"] == 0
    assert view["customer_type"] == "individual"
    assert view["seniority"] == "unknown"
    assert view["purchase_potential"] == "low"
    assert view["stage"] == "lead"


async def test_classify_lead_errors_name_the_id(crm) -> None:
    assert MISSING_LEAD in await crm.error("classify_lead", lead_id=MISSING_LEAD)
    assert "lead_id" in await crm.error("classify_lead", lead_id="lead-1")
    assert "lead_id" in await crm.error("classify_lead")


async def test_default_scoring_rules_are_readable_as_tool_and_resource(crm, client) -> None:
    rules = await crm.ok("get_scoring_rules")
    assert rules["customized"] is False
    assert rules["rules"]["stages"]["mql_min_score"] == 40
    assert rules["rules"]["stages"]["sql_min_score"] == 65
    resource = await client.read_resource("crm://crm/scoring-rules")
    assert json.loads(resource[0].text) == rules["rules"]


async def test_set_scoring_rules_merges_overrides_and_changes_future_classification(crm, client) -> None:
    lead = (await crm.strong_lead())["lead"]
    assert lead["stage"] == "mql"
    changed = await crm.ok("set_scoring_rules", overrides={"stages": {"mql_min_score": 90, "sql_min_score": 95}})
    assert changed["customized"] is True
    assert changed["rules"]["stages"]["mql_min_score"] == 90
    assert changed["rules"]["stages"]["sql_requires"] == ["budget", "authority", "need"]  # merged, not replaced
    assert changed["rules"]["fit"]["industry"]["points"]["software"] == 15
    assert (await crm.ok("get_scoring_rules")) == changed
    resource = await client.read_resource("crm://crm/scoring-rules")
    assert json.loads(resource[0].text)["stages"]["mql_min_score"] == 90
    # Existing leads keep their stage until re-scored; classify_lead applies the new thresholds.
    assert (await crm.ok("get_lead", lead_id=lead["id"]))["stage"] == "mql"
    reclassified = await crm.ok("classify_lead", lead_id=lead["id"])
    assert reclassified["stage"] == "lead"
    assert "90" in reclassified["stage_reason"]

    reset = await crm.ok("set_scoring_rules", overrides={}, reset=True)
    assert reset["rules"]["stages"]["mql_min_score"] == 40
    assert (await crm.ok("classify_lead", lead_id=lead["id"]))["stage"] == "mql"


async def test_industry_points_can_be_tuned(crm) -> None:
    lead = (await crm.strong_lead())["lead"]
    before = await crm.ok("classify_lead", lead_id=lead["id"])
    industry_before = next(f["points"] for f in before["factors"] if f["factor"] == "industry")
    await crm.ok("set_scoring_rules", overrides={"fit": {"industry": {"points": {"software": 2}}}})
    after = await crm.ok("classify_lead", lead_id=lead["id"])
    assert next(f["points"] for f in after["factors"] if f["factor"] == "industry") == 2
    assert after["score"] == before["score"] - (industry_before - 2)


async def test_mql_threshold_at_or_above_sql_is_rejected_naming_the_path(crm) -> None:
    text = await crm.error("set_scoring_rules", overrides={"stages": {"mql_min_score": 70}})
    assert "rules.stages" in text
    assert "mql_min_score" in text
    assert "sql_min_score" in text
    text = await crm.error("set_scoring_rules", overrides={"stages": {"mql_min_score": 65, "sql_min_score": 65}})
    assert "rules.stages" in text
    # Nothing was stored.
    assert (await crm.ok("get_scoring_rules"))["customized"] is False


INVALID_RULES = [
    ({"stages": {"mql_min_score": "high"}}, "rules.stages.mql_min_score"),
    ({"stages": {"sql_min_score": 101}}, "rules.stages.sql_min_score"),
    ({"fit": {"industry": {"points": {"software": -1}}}}, "rules.fit.industry.points.software"),
    ({"fit": []}, "rules.fit"),
    ({"unknown_section": {}}, "rules.unknown_section"),
    (
        {"engagement": {"recency": {"bands": [{"within_days": 5, "points": 1}, {"within_days": 2, "points": 1}]}}},
        "rules.engagement.recency.bands",
    ),
    ({"stages": {"sql_requires": ["budget", "mood"]}}, "rules.stages"),
]


async def test_invalid_scoring_rules_name_the_bad_path(crm) -> None:
    await crm.rejects("set_scoring_rules", [({"overrides": overrides}, path) for overrides, path in INVALID_RULES])
    assert (await crm.ok("get_scoring_rules"))["customized"] is False


async def test_set_scoring_rules_needs_an_overrides_object(crm) -> None:
    assert "overrides" in await crm.error("set_scoring_rules")
    assert "overrides" in await crm.error("set_scoring_rules", overrides=[1, 2])

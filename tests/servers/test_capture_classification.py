"""crm_capture_lead classifies with everything it wrote: an immediate crm_classify_lead always agrees.

The shapes of capture tried: with or without a company, its domain, industry and size, a title, a country,
consent, and for a new or an already known person — a covering matrix in which every combination of any
four of those appears. The capture's reply must also show consent as it was stored (source and time),
exactly as crm_get_contact reads it back.
"""

import itertools
from typing import Any

# What a classification says; classified_at and previous_stage differ between two calls by design.
COMPARED = (
    "stage",
    "score",
    "fit_score",
    "engagement_score",
    "qualification_score",
    "purchase_potential",
    "customer_type",
    "seniority",
    "factors",
)
SHAPES = ("company", "company_domain", "industry", "employee_count", "title", "country", "consent", "known")
STRENGTH = 4


def covering_matrix(factors: int, strength: int) -> list[tuple[bool, ...]]:
    """Rows of booleans in which every combination of values of any ``strength`` factors appears (greedy)."""
    rows = list(itertools.product((False, True), repeat=factors))
    groups = list(itertools.combinations(range(factors), strength))
    missing = {(group, values) for group in groups for values in itertools.product((False, True), repeat=strength)}
    chosen = []
    while missing:
        best = max(rows, key=lambda row: sum((g, tuple(row[i] for i in g)) in missing for g in groups))
        chosen.append(best)
        missing -= {(g, tuple(best[i] for i in g)) for g in groups}
    return chosen


def capture_arguments(shape: dict[str, bool], number: int) -> dict[str, Any]:
    """The capture of one shape; each shape has its own person and company."""
    arguments: dict[str, Any] = {"source_channel": "web_form", "email": f"person{number}@shape{number}.example"}
    optional = {
        "company": f"Shape {number} Inc",
        "company_domain": f"shape{number}.example",
        "industry": "Software",
        "employee_count": 5000,
        "title": "CTO",
        "country": "US",
        "consent": {"email": {"granted": True, "source": "landing_form"}, "sms": {"granted": False}},
    }
    arguments.update({name: value for name, value in optional.items() if shape[name]})
    return arguments


async def test_capture_and_an_immediate_classification_agree_for_every_input_shape(crm) -> None:
    disagreements = []
    matrix = covering_matrix(len(SHAPES), STRENGTH)
    assert (False,) * len(SHAPES) in matrix and (True,) * len(SHAPES) in matrix
    for number, flags in enumerate(matrix):
        shape = dict(zip(SHAPES, flags, strict=True))
        arguments = capture_arguments(shape, number)
        if shape["known"]:
            await crm.ok("capture_lead", source_channel="event", email=arguments["email"])
        captured = await crm.ok("capture_lead", **arguments)
        assert captured["created"] is not shape["known"]
        classified = await crm.ok("classify_lead", lead_id=captured["lead"]["id"])
        on_capture = {key: captured["lead"]["classification"][key] for key in COMPARED}
        on_demand = {key: classified[key] for key in COMPARED}
        if on_capture != on_demand:
            disagreements.append(f"{shape}: capture {on_capture} != classify {on_demand}")
        if shape["consent"]:
            stored = await crm.ok("get_contact", contact_id=captured["contact"]["id"])
            assert captured["contact"]["consent"] == stored["consent"], shape
            assert captured["contact"]["consent"]["email"]["source"] == "landing_form"
            assert captured["contact"]["consent"]["sms"]["source"] == "web_form"
            assert captured["contact"]["consent"]["sms"]["recorded_at"] is not None
    assert not disagreements, "\n".join(disagreements)


async def test_the_company_written_by_a_capture_drives_its_classification(crm) -> None:
    captured = await crm.ok(
        "capture_lead",
        source_channel="web_form",
        email="cto@bigco.example",
        title="CTO",
        company="BigCo",
        company_domain="bigco.example",
        industry="software",
        employee_count=5000,
    )
    lead = captured["lead"]
    assert lead["customer_type"] == "enterprise"
    factors = {f["factor"]: f for f in lead["classification"]["factors"]}
    assert factors["industry"]["value"] == "software"
    assert factors["industry"]["points"] > 0

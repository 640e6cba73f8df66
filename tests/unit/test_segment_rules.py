"""Segment rule parsing: accepted shapes, normalization, summaries, and errors that name the JSON path."""

from datetime import UTC, datetime
from typing import Any

import pytest

from promptsales.domain_core.crm.model.segments import (
    MAX_CONDITIONS,
    SEGMENT_FIELDS,
    SegmentCondition,
    SegmentGroup,
    describe_rule,
    parse_segment_rule,
)
from promptsales.domain_core.shared.errors import ValidationFailed

EXAMPLE: dict[str, Any] = {
    "all": [
        {"field": "industry", "op": "in", "value": ["software", "fintech"]},
        {
            "any": [
                {"field": "score", "op": "gte", "value": 60},
                {"field": "tags", "op": "contains", "value": "vip"},
            ]
        },
        {"field": "consent.email", "op": "eq", "value": "granted"},
        {"field": "last_activity", "op": "within_days", "value": 30},
    ]
}


def cond(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    """A raw condition (``value`` left out when None)."""
    raw: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None:
        raw["value"] = value
    return raw


def fails(raw: Any) -> ValidationFailed:
    """Parse ``raw`` expecting a ValidationFailed and return it."""
    with pytest.raises(ValidationFailed) as info:
        parse_segment_rule(raw)
    return info.value


def test_example_rule_parses_into_frozen_models() -> None:
    rule = parse_segment_rule(EXAMPLE)
    assert rule.mode == "all" and len(rule.children) == 4
    inner = rule.children[1]
    assert isinstance(inner, SegmentGroup) and inner.mode == "any"
    first = rule.children[0]
    assert isinstance(first, SegmentCondition) and first.value == ("software", "fintech")
    with pytest.raises(ValueError):
        first.op = "eq"  # type: ignore[misc]


def test_describe_rule_is_one_readable_line() -> None:
    text = describe_rule(parse_segment_rule(EXAMPLE))
    assert text == (
        "industry in [software, fintech] AND (score ≥ 60 OR has tag vip) AND consent.email = granted"
        " AND last_activity within the last 30 days"
    )
    negated = parse_segment_rule(
        {
            "any": [cond("stage", "eq", "sql", **{"not": True}), cond("created", "gt", "2025-01-01")],
            "not": True,
        }
    )
    assert describe_rule(negated) == "NOT (NOT (stage = sql) OR created after 2025-01-01T00:00:00Z)"


def test_to_json_round_trips() -> None:
    raw = {
        "any": [
            cond("created", "lt", "2025-03-01T10:00:00+02:00"),
            cond("tags", "exists"),
            {"all": [cond("country", "in", ["mx", "US"]), cond("title", "contains", "VP")], "not": True},
        ]
    }
    rule = parse_segment_rule(raw)
    assert parse_segment_rule(rule.to_json()) == rule
    assert rule.to_json()["any"][0]["value"] == "2025-03-01T08:00:00Z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (cond("industry", "eq", "  SoftWare "), "software"),
        (cond("country", "eq", "mx"), "MX"),
        (cond("stage", "eq", "SQL"), "sql"),
        (cond("owner", "eq", "Alice"), "Alice"),  # owner is an identifier: case kept for eq
        (cond("owner", "contains", "Ali"), "ali"),  # contains is always case-insensitive
        (cond("email_domain", "eq", "@Acme.com"), "acme.com"),
        (cond("tags", "in", ["VIP", "vip", "Beta"]), ("vip", "beta")),
        (cond("score", "in", [10, 59.5, 10]), (10, 59.5)),
        (cond("created", "gt", "2025-01-31"), datetime(2025, 1, 31, tzinfo=UTC)),
        (cond("last_activity", "lt", "2025-01-31T05:00:00Z"), datetime(2025, 1, 31, 5, tzinfo=UTC)),
        (cond("industry", "exists"), None),
        (cond("industry", "exists", True), None),
    ],
)
def test_values_are_normalized(raw: dict[str, Any], expected: Any) -> None:
    condition = parse_segment_rule({"all": [raw]}).children[0]
    assert isinstance(condition, SegmentCondition)
    assert condition.value == expected


def test_field_table_lists_ops_and_vocabularies() -> None:
    assert SEGMENT_FIELDS["stage"].values[0] == "subscriber"
    assert SEGMENT_FIELDS["score"].ops == ("eq", "neq", "in", "gt", "gte", "lt", "lte", "exists")
    assert SEGMENT_FIELDS["tags"].ops == ("contains", "in", "exists")
    assert SEGMENT_FIELDS["created"].ops == ("within_days", "gt", "lt", "exists")
    assert set(SEGMENT_FIELDS["consent.sms"].values) == {"granted", "revoked"}


def test_unknown_field_is_named_with_valid_fields_and_a_suggestion() -> None:
    error = fails({"all": [cond("score", "gte", 1), cond("industy", "eq", "x")]})
    assert error.field == "rule.all[1].field"
    assert "'industy'" in error.message and "email_domain" in error.message
    assert error.hint == "Did you mean 'industry'?"


def test_unknown_operator_lists_ops_allowed_for_the_field() -> None:
    error = fails({"all": [{"any": [cond("score", "like", 5)]}]})
    assert error.field == "rule.all[0].any[0].op"
    assert "Unknown operator 'like'" in error.message
    assert "allowed: eq, neq, in, gt, gte, lt, lte, exists" in error.message


@pytest.mark.parametrize(
    ("raw", "op", "allowed"),
    [
        (cond("score", "contains", "5"), "contains", "eq, neq, in, gt, gte, lt, lte, exists"),
        (cond("stage", "gt", "mql"), "gt", "eq, neq, in, exists"),
        (cond("tags", "eq", "vip"), "eq", "contains, in, exists"),
        (cond("title", "gte", "a"), "gte", "eq, neq, in, contains, exists"),
        (cond("last_activity", "eq", "2025-01-01"), "eq", "within_days, gt, lt, exists"),
        (cond("country", "contains", "M"), "contains", "eq, neq, in, exists"),
        (cond("industry", "within_days", 3), "within_days", "eq, neq, in, contains, exists"),
    ],
)
def test_operator_not_allowed_for_the_field_kind(raw: dict[str, Any], op: str, allowed: str) -> None:
    error = fails({"all": [raw]})
    assert error.field == "rule.all[0].op"
    assert f"'{op}'" in error.message and f"'{raw['field']}'" in error.message
    assert f"allowed: {allowed}." in error.message


def test_vocabulary_value_error_names_the_value_and_lists_allowed() -> None:
    error = fails({"all": [cond("stage", "eq", "prospect")]})
    assert error.field == "rule.all[0].value"
    assert "'prospect'" in error.message
    assert "subscriber, lead, mql, sql, opportunity, customer" in error.message
    listed = fails({"any": [cond("source", "in", ["email", "fax"])]})
    assert listed.field == "rule.any[0].value[1]" and "'fax'" in listed.message and "whatsapp" in listed.message
    consent = fails({"all": [cond("consent.whatsapp", "neq", "yes")]})
    assert "granted, revoked" in consent.message


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        (cond("score", "gte", "60"), "rule.all[1].any[0].value", "compares numbers"),
        (cond("score", "gte", True), "rule.all[1].any[0].value", "compares numbers"),
        (cond("score", "gte", float("inf")), "rule.all[1].any[0].value", "compares numbers"),
        (cond("score", "gte"), "rule.all[1].any[0].value", "needs a value"),
        (cond("score", "in", 5), "rule.all[1].any[0].value", "non-empty list"),
        (cond("score", "in", []), "rule.all[1].any[0].value", "non-empty list"),
        (cond("score", "in", [1, "2"]), "rule.all[1].any[0].value[1]", "compares numbers"),
        (cond("score", "in", list(range(101))), "rule.all[1].any[0].value", "at most 100"),
        (cond("title", "eq", 5), "rule.all[1].any[0].value", "non-empty string"),
        (cond("title", "contains", "   "), "rule.all[1].any[0].value", "non-empty string"),
        (cond("title", "eq", "x" * 201), "rule.all[1].any[0].value", "200 characters"),
        (cond("country", "eq", "Mexico"), "rule.all[1].any[0].value", "alpha-2"),
        (cond("email_domain", "eq", "bob@acme.com"), "rule.all[1].any[0].value", "domain such as"),
        (cond("last_activity", "within_days", 0), "rule.all[1].any[0].value", "1 to 3650"),
        (cond("last_activity", "within_days", 3651), "rule.all[1].any[0].value", "1 to 3650"),
        (cond("last_activity", "within_days", "30"), "rule.all[1].any[0].value", "whole number"),
        (cond("created", "gt", "last tuesday"), "rule.all[1].any[0].value", "ISO-8601"),
        (cond("created", "lt", 1700000000), "rule.all[1].any[0].value", "ISO-8601"),
        (cond("industry", "exists", False), "rule.all[1].any[0].value", "takes no value"),
        (cond("tags", "contains", ["vip"]), "rule.all[1].any[0].value", "tag name"),
        (cond("score", "gte", 5, **{"not": "yes"}), "rule.all[1].any[0].not", "true or false"),
    ],
)
def test_bad_values_name_the_json_path(raw: dict[str, Any], path: str, fragment: str) -> None:
    error = fails({"all": [cond("score", "gte", 1), {"any": [raw]}]})
    assert error.field == path
    assert fragment in error.message


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({"all": []}, "rule.all", "non-empty list"),
        ({"any": {"field": "score"}}, "rule.any", "non-empty list"),
        ({"all": [cond("score", "gt", 1)], "any": [cond("score", "gt", 1)]}, "rule", "exactly one of"),
        (cond("score", "gt", 1), "rule", "exactly one of"),
        (["all"], "rule", "must be a group object"),
        ({"all": [cond("score", "gt", 1)], "limit": 5}, "rule", "Unknown key(s) limit"),
        (
            {"all": [{"field": "score", "operator": "gt", "value": 1}]},
            "rule.all[0]",
            "Unknown key(s) operator",
        ),
        ({"all": ["score > 1"]}, "rule.all[0]", "must be a condition"),
        ({"all": [{"op": "eq", "value": 1}]}, "rule.all[0].field", "needs 'field'"),
        ({"all": [{"field": "score", "value": 1}]}, "rule.all[0].op", "needs 'op'"),
    ],
)
def test_structural_errors(raw: Any, path: str, fragment: str) -> None:
    error = fails(raw)
    assert error.field == path
    assert fragment in error.message


def test_single_condition_at_the_root_hints_to_wrap_it() -> None:
    assert "Wrap a single condition" in (fails(cond("score", "gt", 1)).hint or "")


def test_nesting_deeper_than_five_levels_is_rejected() -> None:
    leaf: dict[str, Any] = {"all": [cond("score", "gt", 1)]}
    for _ in range(4):
        leaf = {"any": [leaf]}
    parse_segment_rule(leaf)  # five levels: fine
    error = fails({"all": [leaf]})
    assert error.field == "rule.all[0].any[0].any[0].any[0].any[0]"
    assert "deeper than 5" in error.message


def test_more_than_fifty_conditions_is_rejected() -> None:
    parse_segment_rule({"all": [cond("score", "gt", i) for i in range(MAX_CONDITIONS)]})
    nested = {"any": [cond("score", "gt", i) for i in range(30)]}
    error = fails({"all": [nested, {"all": [cond("score", "gt", i) for i in range(21)]}]})
    assert error.field == "rule"
    assert "more than 50 conditions" in error.message and "rule.all[1].all[20]" in error.message


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ValidationFailed) as info:
        SegmentCondition(field="score", op="contains", value="x")
    assert info.value.field == "condition.op"
    made = SegmentCondition(field="industry", op="eq", value=" Software ")
    assert made.value == "software"

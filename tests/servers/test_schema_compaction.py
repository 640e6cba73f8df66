"""Schema compaction keeps what each schema accepts: checked with jsonschema on hand-made instances."""

from typing import Annotated, Literal

from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from promptsales.servers import schema_compaction as sc


class Figure(BaseModel):
    """A forecast figure."""

    low: float
    high: float


class Forecast(BaseModel):
    """A forecast."""

    clicks: Figure
    cost: Figure
    cpa: Figure | None = None
    label: Annotated[str | None, Field(max_length=5, description="A label.")] = None
    kind: Literal["a", "b"] | None = None


def accepts(schema: dict, instance: object) -> bool:
    return Draft202012Validator(schema).is_valid(instance)


def test_output_schemas_share_repeated_parts_under_their_model_names_and_accept_the_same_results() -> None:
    original = Forecast.model_json_schema()
    compacted = sc.compact_output_schema(original)
    assert set(compacted["$defs"]) == {"Figure"}
    assert compacted["properties"]["clicks"] == {"$ref": "#/$defs/Figure"}
    assert "description" not in compacted and "title" not in str(compacted)
    # The nullable label folds to a type list; null and short strings stay allowed, long ones refused.
    assert compacted["properties"]["label"] == {"maxLength": 5, "type": ["string", "null"]}
    assert compacted["properties"]["kind"] == {"enum": ["a", "b", None], "type": ["string", "null"]}
    figure = {"low": 1, "high": 2}
    good = [
        {"clicks": figure, "cost": figure},
        {"clicks": figure, "cost": figure, "cpa": None, "label": None, "kind": None},
        {"clicks": figure, "cost": figure, "cpa": figure, "label": "ok", "kind": "b"},
    ]
    bad = [
        {"clicks": figure},
        {"clicks": {"low": 1}, "cost": figure},
        {"clicks": figure, "cost": figure, "label": "too long"},
        {"clicks": figure, "cost": figure, "kind": "c"},
        {"clicks": figure, "cost": figure, "cpa": {"low": "x", "high": 1}},
    ]
    for instance in good:
        assert accepts(original, instance) and accepts(compacted, instance), instance
    for instance in bad:
        assert not accepts(original, instance) and not accepts(compacted, instance), instance


def test_a_nullable_union_is_only_folded_when_it_means_the_same() -> None:
    ref_or_null = {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]}
    assert sc._fold_nullable(ref_or_null) == ref_or_null
    both_described = {"anyOf": [{"type": "string", "description": "x"}, {"type": "null"}], "description": "y"}
    assert sc._fold_nullable(both_described) == both_described
    assert sc._fold_nullable({"anyOf": [{"const": 3, "type": "integer"}, {"type": "null"}]}) == {
        "enum": [3, None],
        "type": ["integer", "null"],
    }


def test_big_output_schemas_lose_deep_levels_but_still_accept_every_result() -> None:
    deep = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}}
    limited = sc._limit_depth(deep, 1)
    assert limited == {"type": "object", "properties": {"a": {"type": "object"}}}
    assert accepts(limited, {"a": {"b": "x"}}) and not accepts(limited, {"a": 3})


def test_input_schemas_stay_inline_and_keep_every_bound_and_null() -> None:
    original = Forecast.model_json_schema()
    compacted = sc.compact_input_schema(original)
    assert "$defs" not in compacted and "$ref" not in str(compacted)
    label = compacted["properties"]["label"]
    # null stays published where the tool accepts it (the fuzzer holds the server to its schema both ways),
    # folded into the type list.
    assert label == {"maxLength": 5, "type": ["string", "null"], "description": "A label."}
    assert "default" not in compacted["properties"]["cpa"]
    assert "title" not in str(compacted)
    for instance in ({"clicks": {"low": 1, "high": 2}, "cost": {"low": 1, "high": 2}, "label": None},):
        assert accepts(compacted, instance)
    assert not accepts(compacted, {"clicks": {"low": 1, "high": 2}, "cost": {"low": 1, "high": 2}, "label": "x" * 6})


def test_a_required_field_keeps_its_default_and_a_name_like_description_goes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "first_name": {"type": "string", "maxLength": 9, "description": "First name."},
            "note": {"type": ["string", "null"], "default": None},
        },
        "required": ["note"],
    }
    compacted = sc.compact_input_schema(schema)
    assert compacted["properties"]["first_name"] == {"type": "string", "maxLength": 9}
    assert compacted["properties"]["note"]["default"] is None

"""The JSON-Schema subset that field extraction fills: checked properties with the stems that name them."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.content.model.text_basics import WORD, content_words, normalize, stem
from promptsales.domain_core.shared.errors import ValidationFailed

JsonScalar = str | int | float | bool
JsonValue = JsonScalar | list[JsonScalar]

_TYPES = ("string", "number", "integer", "boolean", "array")
_FORMATS = ("email", "date", "date-time", "uri", "phone")
_SCHEMA_HINT = (
    'Supported: {"type": "object", "properties": {"<name>": {"type": "string|number|integer|boolean|array", '
    '"format": "email|date|date-time|uri|phone", "enum": [...], "description": "..."}}, "required": [...]}; '
    "array items must be scalars; nested objects are not supported."
)
_FORMAT_WORDS = {
    "email": frozenset({"email", "correo", "mail"}),
    "phone": frozenset({"phone", "telefono", "tel", "movil", "celular", "mobile", "whatsapp"}),
    "uri": frozenset({"url", "website", "web", "sitio", "link", "enlace"}),
    "date": frozenset({"date", "fecha", "deadline", "birthday", "dia"}),
}


@dataclass(frozen=True)
class Prop:
    """One schema property, checked, with the stems that name it."""

    name: str
    type: str
    format: str | None
    enum: tuple[JsonScalar, ...]
    name_terms: frozenset[str]
    named_by: frozenset[str]  # name words and their synonyms: a label saying these is the strongest match
    terms: frozenset[str]


def parse_schema(schema: object) -> tuple[list[Prop], list[str]]:
    """Check the schema against the supported subset and turn its properties into ``Prop``."""
    if not isinstance(schema, dict):
        raise ValidationFailed("schema must be a JSON Schema object.", field="schema", hint=_SCHEMA_HINT)
    if schema.get("type", "object") != "object":
        raise ValidationFailed('schema "type" must be "object".', field="schema", hint=_SCHEMA_HINT)
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise ValidationFailed("schema.properties must be a non-empty object.", field="schema", hint=_SCHEMA_HINT)
    required = schema.get("required", [])
    if not isinstance(required, list) or any(not isinstance(r, str) or r not in properties for r in required):
        raise ValidationFailed(
            "schema.required must list names of schema.properties.", field="schema", hint=_SCHEMA_HINT
        )
    return [_parse_property(name, spec) for name, spec in properties.items()], list(required)


def _parse_property(name: object, spec: object) -> Prop:
    """One property: a scalar type or an array of scalars, with optional format, enum and description."""
    if not isinstance(name, str) or not name.strip() or not isinstance(spec, dict):
        raise ValidationFailed(f"schema property {name!r} must be an object.", field="schema", hint=_SCHEMA_HINT)
    kind = _declared_type(name, spec)
    items = spec.get("items", {}) if kind == "array" else spec
    if not isinstance(items, dict):
        raise ValidationFailed(f"schema property '{name}': items must be an object.", field="schema")
    item_kind = _declared_type(name, items) if kind == "array" else kind
    if item_kind in ("array", "object"):
        raise ValidationFailed(
            f"schema property '{name}': arrays must hold scalars.", field="schema", hint=_SCHEMA_HINT
        )
    fmt, enum = items.get("format"), items.get("enum", [])
    if fmt is not None and (fmt not in _FORMATS or item_kind != "string"):
        raise ValidationFailed(
            f"schema property '{name}': format {fmt!r} is not supported.", field="schema", hint=_SCHEMA_HINT
        )
    if not isinstance(enum, list) or any(isinstance(v, dict | list) or v is None for v in enum):
        raise ValidationFailed(f"schema property '{name}': enum must list scalars.", field="schema", hint=_SCHEMA_HINT)
    description = spec.get("description", "")
    words = [w for w in re.split(r"[_\-\s.]+|(?<=[a-z])(?=[A-Z])", name) if w]
    stop = lex.STOPWORDS["en"] | lex.STOPWORDS["es"]
    name_terms = frozenset(stem(w) for w in words if normalize(w) not in stop) or frozenset(stem(w) for w in words)
    described = content_words(description) if isinstance(description, str) else []
    named_by = _with_synonyms(words)
    terms = named_by | _with_synonyms(described)
    if fmt is None and item_kind == "string" and not enum:
        fmt = next((f for f, ws in _FORMAT_WORDS.items() if {normalize(w) for w in words} & ws), None)
    kind = kind if kind != "array" else f"array:{item_kind}"
    return Prop(name, kind, fmt, tuple(enum), name_terms, named_by, terms)


def _with_synonyms(words: Iterable[str]) -> frozenset[str]:
    """Stems of ``words`` plus those of every field-synonym group they belong to ("nombre" reaches "name")."""
    stems = {stem(w) for w in words}
    for key, synonyms in lex.FIELD_SYNONYMS.items():
        group = (key, *synonyms)
        if any(stem(member) in stems for member in group):
            stems.update(stem(s) for phrase in group for s in WORD.findall(phrase))
    return frozenset(stems)


def _declared_type(name: str, spec: dict[str, object]) -> str:
    """The property's single non-null type, inferred from its enum when absent."""
    declared = spec.get("type")
    if isinstance(declared, list):
        rest = [t for t in declared if t != "null"]
        declared = rest[0] if len(rest) == 1 else None
    if declared is None and isinstance(spec.get("enum"), list) and spec["enum"]:
        values = spec["enum"]
        assert isinstance(values, list)
        declared = (
            "boolean"
            if all(isinstance(v, bool) for v in values)
            else ("number" if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) else "string")
        )
    if declared not in _TYPES:
        raise ValidationFailed(
            f"schema property '{name}': type {declared!r} is not supported.", field="schema", hint=_SCHEMA_HINT
        )
    assert isinstance(declared, str)
    return declared

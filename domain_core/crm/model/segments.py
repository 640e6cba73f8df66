"""Segment rules: the JSON audience language agents write, parsed into frozen, validated models.

A rule is a tree of groups (``{"all": [...]}`` / ``{"any": [...]}``) whose leaves are conditions
(``{"field": "score", "op": "gte", "value": 60}``); either may carry ``"not": true``. Parsing checks
everything up front (field names, the operators each field accepts, value types, closed vocabularies,
nesting depth and size) and every error is a :class:`ValidationFailed` whose ``field`` is the JSON path
of the offending part, e.g. ``rule.all[1].any[0].value``, so the agent that wrote the rule can fix it.

Values are normalized while parsing (case-insensitive fields lower-cased, countries upper-cased,
datetimes made aware UTC, duplicate list items dropped) so the SQL compiler (``segment_query.py``) binds
them as they are. The semantics are part of the language and the compiler implements them:

* lead fields match when the contact has at least one lead that matches; each condition is checked on
  its own (two conditions may be met by different leads) and a contact without leads matches none;
* ``neq`` means "is not X, including unknown": a contact whose value is missing matches it;
* ``"not": true`` is an exact complement: a missing value counts as "does not match".
"""

import contextlib
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from promptsales.domain_core.crm.model.vocabulary import (
    LIFECYCLE_ORDER,
    SOURCE_CHANNELS,
    ConsentStatus,
    CustomerType,
    PurchasePotential,
)
from promptsales.domain_core.shared.errors import ValidationFailed

Op = Literal["eq", "neq", "in", "gt", "gte", "lt", "lte", "contains", "exists", "within_days"]
FieldKind = Literal["number", "text", "code", "vocabulary", "tags", "date"]
FieldSource = Literal["contact", "lead", "organization", "tags"]
Scalar = int | float | str | datetime
SegmentValue = Scalar | tuple[str, ...] | tuple[int | float, ...] | None

MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_LIST_VALUES = 100
MAX_TEXT_LENGTH = 200
MAX_WITHIN_DAYS = 3650
MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)

_OPS: Mapping[FieldKind, tuple[Op, ...]] = {
    "number": ("eq", "neq", "in", "gt", "gte", "lt", "lte", "exists"),
    "text": ("eq", "neq", "in", "contains", "exists"),
    "code": ("eq", "neq", "in", "exists"),
    "vocabulary": ("eq", "neq", "in", "exists"),
    "tags": ("contains", "in", "exists"),
    "date": ("within_days", "gt", "lt", "exists"),
}
_EXPECTED: Mapping[FieldKind, str] = {
    "number": "a number such as 60 (no quotes)",
    "text": "a non-empty string",
    "code": "an ISO 3166-1 alpha-2 country code such as 'MX'",
    "vocabulary": "one of the allowed values",
    "tags": "a tag name",
    "date": "an ISO-8601 datetime such as '2025-01-31T00:00:00Z'",
}
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a segment field reads, its kind, and (for closed vocabularies) the values it accepts."""

    kind: FieldKind
    source: FieldSource
    description: str
    values: tuple[str, ...] = ()
    case_insensitive: bool = False

    @property
    def ops(self) -> tuple[Op, ...]:
        """The operators this field accepts."""
        return _OPS[self.kind]


_CONSENT = get_args(ConsentStatus)
SEGMENT_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "customer_type": FieldSpec("vocabulary", "lead", "lead customer type", get_args(CustomerType)),
        "industry": FieldSpec("text", "organization", "organization industry", case_insensitive=True),
        "company_size": FieldSpec("number", "organization", "organization employee count"),
        "country": FieldSpec("code", "contact", "contact country (ISO-2)"),
        "region": FieldSpec("text", "contact", "contact region", case_insensitive=True),
        "purchase_potential": FieldSpec("vocabulary", "lead", "lead purchase potential", get_args(PurchasePotential)),
        "stage": FieldSpec("vocabulary", "lead", "lead lifecycle stage", LIFECYCLE_ORDER),
        "score": FieldSpec("number", "lead", "lead score (0-100)"),
        "source": FieldSpec("vocabulary", "lead", "lead source channel", SOURCE_CHANNELS),
        "owner": FieldSpec("text", "lead", "lead owner"),
        "tags": FieldSpec("tags", "tags", "contact tags", case_insensitive=True),
        "consent.email": FieldSpec("vocabulary", "contact", "email consent", _CONSENT),
        "consent.sms": FieldSpec("vocabulary", "contact", "SMS consent", _CONSENT),
        "consent.whatsapp": FieldSpec("vocabulary", "contact", "WhatsApp consent", _CONSENT),
        "last_activity": FieldSpec("date", "contact", "contact last activity time"),
        "created": FieldSpec("date", "lead", "lead creation time"),
        "email_domain": FieldSpec("text", "contact", "domain of the contact email", case_insensitive=True),
        "title": FieldSpec("text", "contact", "contact job title", case_insensitive=True),
    }
)


class SegmentCondition(BaseModel):
    """One comparison; constructing it validates and normalizes the value (``context={"path": ...}``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    op: Op
    value: SegmentValue = None
    negate: bool = False

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any, info: ValidationInfo) -> Any:
        """Check field, operator and value against :data:`SEGMENT_FIELDS`, naming the JSON path."""
        if not isinstance(data, Mapping):
            return data
        context = info.context if isinstance(info.context, Mapping) else {}
        path = str(context.get("path", "condition"))
        name = data.get("field")
        spec = _field_spec(name, f"{path}.field")
        op = _check_op(str(name), spec, data.get("op"), f"{path}.op")
        return {**data, "value": _normalize_value(str(name), spec, op, data.get("value"), f"{path}.value")}

    def to_json(self) -> dict[str, Any]:
        """The condition in the rule language (round-trips through :func:`parse_segment_rule`)."""
        out: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op != "exists":
            out["value"] = list(self.value) if isinstance(self.value, tuple) else _json_scalar(self.value)
        if self.negate:
            out["not"] = True
        return out


class SegmentGroup(BaseModel):
    """Conditions and sub-groups joined by AND (``all``) or OR (``any``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["all", "any"]
    children: tuple["SegmentCondition | SegmentGroup", ...] = Field(min_length=1)
    negate: bool = False

    def to_json(self) -> dict[str, Any]:
        """The group in the rule language (round-trips through :func:`parse_segment_rule`)."""
        out: dict[str, Any] = {self.mode: [child.to_json() for child in self.children]}
        if self.negate:
            out["not"] = True
        return out


def parse_segment_rule(raw: Mapping[str, Any]) -> SegmentGroup:
    """Parse and validate a rule document; raise ValidationFailed naming the path of the first problem."""
    return _parse_group(raw, "rule", depth=1, seen=[0])


def describe_rule(rule: SegmentGroup) -> str:
    """A one-line human summary, e.g. ``industry in [software, fintech] AND (score ≥ 60 OR has tag vip)``."""
    return _describe_group(rule, nested=False)


def _parse_group(raw: Any, path: str, *, depth: int, seen: list[int]) -> SegmentGroup:
    """Parse one group; ``seen`` counts conditions across the whole rule to enforce the size limit."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed(f'{path} must be a group object such as {{"all": [...]}}.', field=path)
    modes = [key for key in ("all", "any") if key in raw]
    if len(modes) != 1:
        raise ValidationFailed(
            f"{path} must be a group with exactly one of 'all' (every item matches) or 'any' (one matches).",
            field=path,
            hint='Wrap a single condition as {"all": [<condition>]}.' if "field" in raw else None,
        )
    _reject_unknown_keys(raw, {"all", "any", "not"}, path, 'a group has "all" or "any" and optional "not"')
    if depth > MAX_DEPTH:
        raise ValidationFailed(
            f"Groups nest deeper than {MAX_DEPTH} levels at {path}.",
            field=path,
            hint="Flatten the rule: combine sibling conditions into one group or use 'in' with a list.",
        )
    mode = modes[0]
    items = raw[mode]
    if not isinstance(items, list) or not items:
        raise ValidationFailed(f"'{mode}' must be a non-empty list of conditions or groups.", field=f"{path}.{mode}")
    children: list[SegmentCondition | SegmentGroup] = []
    for index, item in enumerate(items):
        child_path = f"{path}.{mode}[{index}]"
        if isinstance(item, Mapping) and "field" not in item and ("all" in item or "any" in item):
            children.append(_parse_group(item, child_path, depth=depth + 1, seen=seen))
        elif isinstance(item, Mapping):
            seen[0] += 1
            if seen[0] > MAX_CONDITIONS:
                raise ValidationFailed(
                    f"The rule has more than {MAX_CONDITIONS} conditions (limit reached at {child_path}).",
                    field="rule",
                    hint="Use 'in' with a list of values instead of many 'eq' conditions, or split the rule.",
                )
            children.append(_parse_condition(item, child_path))
        else:
            raise ValidationFailed(
                f'{child_path} must be a condition {{field, op, value}} or a group {{"all"|"any": [...]}}.',
                field=child_path,
            )
    return SegmentGroup(mode=mode, children=tuple(children), negate=_negate(raw, path))


def _parse_condition(raw: Mapping[str, Any], path: str) -> SegmentCondition:
    """Parse one condition; the model's validator checks field, op and value with this path."""
    _reject_unknown_keys(raw, {"field", "op", "value", "not"}, path, 'a condition has "field", "op", "value"')
    data = {key: raw.get(key) for key in ("field", "op", "value")} | {"negate": _negate(raw, path)}
    return SegmentCondition.model_validate(data, context={"path": path})


def _reject_unknown_keys(raw: Mapping[str, Any], allowed: set[str], path: str, shape: str) -> None:
    """Name unknown keys (often a misspelled operator or field) instead of silently ignoring them."""
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise ValidationFailed(f"Unknown key(s) {', '.join(unknown)} at {path}; {shape}.", field=path)


def _negate(raw: Mapping[str, Any], path: str) -> bool:
    """Read the optional ``not`` flag, which must be a real boolean."""
    value = raw.get("not", False)
    if not isinstance(value, bool):
        raise ValidationFailed(f"'not' must be true or false; got {value!r}.", field=f"{path}.not")
    return value


def _field_spec(name: Any, path: str) -> FieldSpec:
    """Look up a field, suggesting the closest valid name when it is unknown."""
    valid = ", ".join(SEGMENT_FIELDS)
    if not isinstance(name, str) or not name:
        raise ValidationFailed("A condition needs 'field', the name of what to compare.", field=path, hint=valid)
    spec = SEGMENT_FIELDS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(SEGMENT_FIELDS), n=1)
        hint = f"Did you mean '{close[0]}'?" if close else None
        raise ValidationFailed(f"Unknown field '{name}'; valid fields: {valid}.", field=path, hint=hint)
    return spec


def _check_op(name: str, spec: FieldSpec, op: Any, path: str) -> Op:
    """Check the operator is one this field's kind accepts."""
    allowed = ", ".join(spec.ops)
    if not isinstance(op, str) or not op:
        raise ValidationFailed(f"A condition on '{name}' needs 'op', one of: {allowed}.", field=path)
    for candidate in spec.ops:
        if candidate == op:
            return candidate
    known = "Operator" if op in get_args(Op) else "Unknown operator"
    raise ValidationFailed(
        f"{known} '{op}' is not allowed for field '{name}' ({spec.kind}); allowed: {allowed}.",
        field=path,
        hint='To negate a condition add "not": true.' if op in {"not_in", "not_contains", "ne"} else None,
    )


def _normalize_value(name: str, spec: FieldSpec, op: Op, value: Any, path: str) -> SegmentValue:
    """Check the value against the field kind and operator and return its normalized form."""
    if op == "exists":
        if value is None or value is True:
            return None
        raise ValidationFailed(
            f"Operator 'exists' takes no value; got {value!r}.",
            field=path,
            hint='Omit "value"; to match contacts without it add "not": true.',
        )
    if value is None:
        raise ValidationFailed(f"Operator '{op}' on '{name}' needs a value: {_EXPECTED[spec.kind]}.", field=path)
    if op != "in":
        return _normalize_scalar(name, spec, op, value, path)
    if not isinstance(value, list | tuple) or not value:
        raise ValidationFailed(f"Operator 'in' needs a non-empty list of {_EXPECTED[spec.kind]}.", field=path)
    if len(value) > MAX_LIST_VALUES:
        raise ValidationFailed(f"Operator 'in' takes at most {MAX_LIST_VALUES} values.", field=path)
    items: list[Any] = [_normalize_scalar(name, spec, op, v, f"{path}[{i}]") for i, v in enumerate(value)]
    return tuple(dict.fromkeys(items))  # dict keeps order while dropping duplicates


def _normalize_scalar(name: str, spec: FieldSpec, op: Op, value: Any, path: str) -> Scalar:
    """Normalize one value: numbers stay numbers, texts are trimmed and folded, dates become UTC."""
    if op == "within_days":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WITHIN_DAYS:
            raise ValidationFailed(
                f"'within_days' needs a whole number of days from 1 to {MAX_WITHIN_DAYS}; got {value!r}.",
                field=path,
            )
        return value
    if spec.kind == "date":
        return _normalize_datetime(value, path)
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationFailed(f"'{name}' compares numbers, e.g. 60 (no quotes); got {value!r}.", field=path)
        if isinstance(value, int) and not MIN_INTEGER <= value <= MAX_INTEGER:
            # Databases bind 64-bit integers; a bigger literal would fail in the driver, not here.
            raise ValidationFailed(f"'{name}' compares numbers from {MIN_INTEGER} to {MAX_INTEGER}.", field=path)
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"Field '{name}' needs {_EXPECTED[spec.kind]}; got {value!r}.", field=path)
    text = value.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationFailed(f"Values are limited to {MAX_TEXT_LENGTH} characters.", field=path)
    if spec.kind == "vocabulary":
        if text.lower() not in spec.values:
            raise ValidationFailed(
                f"'{text}' is not a valid value for '{name}'; allowed: {', '.join(spec.values)}.", field=path
            )
        return text.lower()
    if spec.kind == "code":
        if not _COUNTRY.fullmatch(text.upper()):
            raise ValidationFailed(f"Field '{name}' needs {_EXPECTED['code']}; got {value!r}.", field=path)
        return text.upper()
    if name == "email_domain":
        text = text.removeprefix("@")
        if not text or "@" in text:
            raise ValidationFailed(f"email_domain takes a domain such as 'acme.com'; got {value!r}.", field=path)
    # contains is always case-insensitive; eq/in only on fields where case carries no meaning.
    return text.lower() if spec.case_insensitive or op == "contains" else text


def _normalize_datetime(value: Any, path: str) -> datetime:
    """Parse an ISO-8601 datetime; one without a zone is taken as UTC."""
    parsed: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value.strip())
    if parsed is None:
        raise ValidationFailed(f"Expected {_EXPECTED['date']}; got {value!r}.", field=path)
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError as exc:
        raise ValidationFailed(f"{value!r} is out of range once converted to UTC.", field=path) from exc


def _json_scalar(value: Any) -> Any:
    """Render a normalized scalar for JSON (datetimes as ISO-8601 with a Z)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


_SYMBOLS: Mapping[str, str] = {"eq": "=", "neq": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}


def _describe_group(group: SegmentGroup, *, nested: bool) -> str:
    """Join children with AND/OR, parenthesizing nested groups so precedence stays visible."""
    joiner = " AND " if group.mode == "all" else " OR "
    parts = [
        _describe_group(child, nested=True) if isinstance(child, SegmentGroup) else _describe_condition(child)
        for child in group.children
    ]
    text = joiner.join(parts)
    if group.negate:
        return f"NOT ({text})"
    return f"({text})" if nested and len(parts) > 1 else text


def _describe_condition(cond: SegmentCondition) -> str:
    """Describe one condition in words and symbols."""
    value = cond.value
    listed = f"[{', '.join(str(_json_scalar(v)) for v in value)}]" if isinstance(value, tuple) else ""
    if cond.field == "tags":
        text = {"contains": f"has tag {value}", "in": f"has any tag in {listed}"}.get(cond.op, "has any tag")
    elif cond.op == "exists":
        text = f"{cond.field} is set"
    elif cond.op == "in":
        text = f"{cond.field} in {listed}"
    elif cond.op == "within_days":
        text = f"{cond.field} within the last {value} days"
    elif cond.op == "contains":
        text = f'{cond.field} contains "{value}"'
    elif SEGMENT_FIELDS[cond.field].kind == "date":
        text = f"{cond.field} {'after' if cond.op == 'gt' else 'before'} {_json_scalar(value)}"
    else:
        text = f"{cond.field} {_SYMBOLS[cond.op]} {value}"
    return f"NOT ({text})" if cond.negate else text

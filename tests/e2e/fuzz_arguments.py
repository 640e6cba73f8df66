"""Schema-driven tool arguments for fuzzing: schema-valid values plus one targeted mutation per case.

Everything is drawn from one ``random.Random``, so a seed reproduces the cases. Each case says which field it
broke and whether the schema itself forbids the result (``must_fail``): an error for such a case has to name
that field (``must_name``), and a success means the server accepted what its own schema rejects.
"""

import copy
import itertools
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

Schema = dict[str, Any]
Path = tuple[str | int, ...]
Maker = Callable[[random.Random], Any]

ONE_MB = 1_000_000
# Crockford base32, as the product's ULID ids use (tools/crm/fields.py).
ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^\^([a-z]{2,5})_\[")
WORDS = (
    "growth",
    "pipeline",
    "launch",
    "spring",
    "offer",
    "demo",
    "pricing",
    "team",
    "cloud",
    "insight",
    "crecimiento",
    "oferta",
    "equipo",
    "datos",
)
# Text that is valid JSON and valid Unicode but hard for storage, layout or length counting.
RTL = ("\u202eevil\u202c", "مرحبا بالعالم", "שלום עולם", "\u200fמבצע\u200f 50%")
EMOJI = ("👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇪🇸🇺🇸", "🚀✨", "👍🏽")
COMBINING = ("e\u0301", "Zalgo\u0336\u0337\u0338\u0334", "a\u0300\u0301\u0302\u0303\u0304", "\u0928\u093f")
NUL = "\u0000"
LONE_SURROGATES = ("\ud800", "\udfff", "\udbff")
DATE_TIMES = (
    "2026-03-01T10:00:00Z",
    "2025-12-31T23:59:59+01:00",
    "2000-02-29T12:00:00Z",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # UTC conversion falls before year 1
    "9999-12-31T23:59:59-14:00",  # UTC conversion falls after year 9999
)
HUGE_INT = 10**30
EXTRA_FIELD = "fuzz_unexpected_field"


# ------------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class FuzzCase:
    """One call: the arguments, what was done to them, and what an error must say."""

    tool: str
    kind: str
    arguments: dict[str, Any]
    target: str | None = None  # dotted path of the field the mutation changed
    must_fail: bool = False  # the tool's own schema rejects these arguments
    must_name: str | None = None  # an error for this case has to name this field

    def summary(self, width: int = 110) -> str:
        """The arguments, short enough for a table row (long strings abbreviated, escapes visible)."""
        text = ascii(_abbreviate(self.arguments))
        return text if len(text) <= width else text[: width - 1] + "…"


def _abbreviate(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 40:
        special = " with NUL" if NUL in value else ""
        return f"{value[:12]}…<{len(value)} chars{special}>"
    if isinstance(value, dict):
        return {key: _abbreviate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_abbreviate(item) for item in value[:4]] + (["…"] if len(value) > 4 else [])
    return value


@dataclass
class Pools:
    """Realistic values the schema alone cannot produce (a real placement, a known id, a matching pair)."""

    by_name: dict[str, Maker] = field(default_factory=dict)  # field name -> value maker
    ids: dict[str, list[str]] = field(default_factory=dict)  # id prefix (ct, ld, ...) -> ids that exist
    groups: list[dict[str, Any]] = field(default_factory=list)  # fields valid together, e.g. channel + format
    pool_share: float = 0.7  # how often a pooled value is preferred over a schema-random one


# ------------------------------------------------------------------------------------------------ schema


def resolve(schema: Schema, root: Schema) -> Schema:
    """Follow a local ``$ref``."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Schema = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        return resolved
    return schema


def branches(schema: Schema, root: Schema) -> list[Schema]:
    """The alternatives of a schema (one for a plain schema), references resolved."""
    schema = resolve(schema, root)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [resolve(option, root) for option in options]
    kinds = schema.get("type")
    if isinstance(kinds, list):  # a nullable field published as type: [X, "null"]
        return [{"type": "null"} if kind == "null" else {**schema, "type": kind} for kind in kinds]
    return [schema]


def nullable(schema: Schema, root: Schema) -> bool:
    return any(branch.get("type") == "null" for branch in branches(schema, root))


def value_branch(schema: Schema, root: Schema) -> Schema:
    """The non-null alternative (the product's optional fields are ``X | None``)."""
    options = [branch for branch in branches(schema, root) if branch.get("type") != "null"]
    return options[0] if options else {"type": "null"}


def accepts(schema: Schema, root: Schema, value: Any) -> bool:
    """Whether pydantic (lax mode, as fastmcp validates) would accept ``value`` for ``schema``, shallowly."""
    return any(_branch_accepts(branch, value) for branch in branches(schema, root))


def _branch_accepts(schema: Schema, value: Any) -> bool:
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    if kind == "null":
        return value is None
    if kind == "string":
        return isinstance(value, str) and string_ok(schema, value)
    if kind == "boolean":
        return isinstance(value, bool) or value in (0, 1)
    if kind == "integer":
        number_like = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return number_like and _in_range(schema, value)
    if kind == "number":
        return isinstance(value, int | float) and _in_range(schema, value)
    if kind == "array":
        return isinstance(value, list) and schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
    if kind == "object":
        return isinstance(value, dict)
    return True


def _in_range(schema: Schema, value: float) -> bool:
    low, high, above = schema.get("minimum"), schema.get("maximum"), schema.get("exclusiveMinimum")
    return (low is None or value >= low) and (high is None or value <= high) and (above is None or value > above)


def string_ok(schema: Schema, value: str) -> bool:
    """Length, pattern, enum and date-time / date format, as pydantic checks them."""
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        return False
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    if schema.get("format") == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True


# ---------------------------------------------------------------------------------------- regex strings


def from_pattern(rng: random.Random, pattern: str) -> str:
    """A string matching a simple regex (anchors, literals, classes, ?, *, +, {n}, {n,m})."""
    tokens: list[tuple[str, int, int]] = []  # (alphabet, min, max)
    i = 0
    body = pattern.removeprefix("^").removesuffix("$")
    while i < len(body):
        char = body[i]
        if char == "[":
            end = body.index("]", i + 1)
            alphabet, i = _char_class(body[i + 1 : end]), end + 1
        elif char == "\\":
            alphabet, i = body[i + 1], i + 2
        else:
            alphabet, i = char, i + 1
        low, high = 1, 1
        if i < len(body) and body[i] in "?*+{":
            if body[i] == "{":
                end = body.index("}", i)
                bounds = body[i + 1 : end].split(",")
                low = int(bounds[0])
                high = int(bounds[-1]) if bounds[-1] else low + 8
                i = end + 1
            else:
                low, high = {"?": (0, 1), "*": (0, 8), "+": (1, 8)}[body[i]]
                i += 1
        tokens.append((alphabet, low, high))
    text = "".join("".join(rng.choice(a) for _ in range(rng.randint(lo, hi))) for a, lo, hi in tokens)
    if not re.search(pattern, text):
        raise ValueError(f"generated {text!r} does not match {pattern!r}: extend from_pattern")
    return text


def _char_class(spec: str) -> str:
    chars: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    return "".join(chars)


def made_up_id(rng: random.Random, prefix: str) -> str:
    """An id of the product's shape that no record has (the ULID time part is far in the future)."""
    return f"{prefix}_7" + "".join(rng.choice(ULID_ALPHABET) for _ in range(25))


# --------------------------------------------------------------------------------------------- generator


class ArgumentFuzzer:
    """Builds fuzz cases for one tool from its input schema."""

    def __init__(self, rng: random.Random, pools: Pools | None = None) -> None:
        self.rng = rng
        self.pools = pools or Pools()

    # ---------------------------------------------------------------- valid values

    def valid_arguments(self, schema: Schema, *, optional_share: float = 0.5) -> dict[str, Any]:
        """Arguments the schema accepts: every required field, some optional ones, pooled values where known."""
        value = self._object(schema, schema, optional_share)
        for group in self.pools.groups:
            if set(group) <= set(schema.get("properties", {})) and self.rng.random() < self.pools.pool_share:
                value.update(copy.deepcopy(self.rng.choice([g for g in self.pools.groups if set(g) == set(group)])))
                break
        return value

    def valid(self, schema: Schema, root: Schema, name: str, optional_share: float = 0.5) -> Any:
        """A value ``schema`` accepts; ``name`` picks a pooled realistic value when there is one."""
        schema = value_branch(schema, root)
        maker = self.pools.by_name.get(name)
        if maker is not None and self.rng.random() < self.pools.pool_share:
            candidate = copy.deepcopy(maker(self.rng))  # mutations must not leak into the pool
            if accepts(schema, root, candidate):
                return candidate
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        kind = schema.get("type")
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            low, high = schema.get("minimum", -5), schema.get("maximum", 1_000)
            return self.rng.randint(int(low), int(min(high, low + 1_000)))
        if kind == "number":
            above = schema.get("exclusiveMinimum")
            low = schema.get("minimum", -5.0 if above is None else above + 0.01)
            high = schema.get("maximum", 1_000.0)
            return round(self.rng.uniform(low, min(high, low + 1_000)), 2)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "array":
            items = schema.get("items", {})
            least = schema.get("minItems", 0)
            count = self.rng.randint(least, max(least, min(schema.get("maxItems", 3), 3)))
            return [self.valid(items, root, name, optional_share) for _ in range(count)]
        if kind == "object" and "properties" in schema:
            return self._object(schema, root, optional_share)
        if kind == "object":
            return {self.rng.choice(WORDS): self.rng.choice(WORDS) for _ in range(self.rng.randint(0, 2))}
        return None

    def _object(self, schema: Schema, root: Schema, optional_share: float) -> dict[str, Any]:
        schema = resolve(schema, root)
        required = set(schema.get("required", []))
        value: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            if name in required or self.rng.random() < optional_share:
                value[name] = self.valid(prop, root, name, optional_share)
        # A rule across two fields the schema cannot state: an hour range (a daypart) ends after it starts.
        start, end = value.get("start_hour"), value.get("end_hour")
        if isinstance(start, int) and isinstance(end, int) and end <= start:
            value["end_hour"] = start + 1
        return value

    def _string(self, schema: Schema) -> str:
        pattern = schema.get("pattern")
        if pattern:
            id_prefix = ID_PATTERN.match(pattern)
            if id_prefix:
                known = self.pools.ids.get(id_prefix.group(1), [])
                if known and self.rng.random() < 0.75:
                    return self.rng.choice(known)
                return made_up_id(self.rng, id_prefix.group(1))
            candidate = from_pattern(self.rng, pattern)
            for _ in range(20):  # the pattern alone may allow fewer (or more) characters than minLength/maxLength
                if string_ok(schema, candidate):
                    break
                candidate = from_pattern(self.rng, pattern)
            return candidate
        if schema.get("format") == "date-time":
            if self.rng.random() < 0.6:
                moment = datetime.now(UTC) - timedelta(minutes=self.rng.randint(0, 500_000))
                return moment.isoformat().replace("+00:00", "Z")
            return self.rng.choice(DATE_TIMES)
        if schema.get("format") == "date":  # a day in the coming year (campaign flights are in the future)
            return (datetime.now(UTC).date() + timedelta(days=self.rng.randint(1, 365))).isoformat()
        low = schema.get("minLength", 0)
        high = schema.get("maxLength", 60)
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 6)))
        text = (words * (1 + low // max(len(words), 1)))[: max(low, min(high, len(words)))]
        return text if len(text) >= low else text + "x" * (low - len(text))

    # ---------------------------------------------------------------- mutations

    def case(self, tool: str, schema: Schema, kind: str) -> FuzzCase:
        """One case of ``kind``; kinds that do not apply to this schema fall back to valid arguments."""
        arguments = self.valid_arguments(schema, optional_share=0.3 if kind == "valid" else 0.6)
        mutate = getattr(self, f"_mutate_{kind}", None)
        if mutate is not None:
            mutated = mutate(tool, schema, arguments)
            if mutated is not None:
                return mutated
        return FuzzCase(tool, "valid" if kind != "unknown_id" else kind, arguments)

    def slots(self, schema: Schema) -> Iterator[tuple[Path, Schema, Schema]]:
        """Every (path, field schema, parent object schema) in the schema, nested objects and array items too."""

        def walk(node: Schema, path: Path) -> Iterator[tuple[Path, Schema, Schema]]:
            node = resolve(node, schema)
            for name, prop in node.get("properties", {}).items():
                yield (*path, name), prop, node
                inner = value_branch(prop, schema)
                if inner.get("type") == "object" and "properties" in inner:
                    yield from walk(inner, (*path, name))
                if inner.get("type") == "array":
                    items = value_branch(inner.get("items", {}), schema)
                    yield (*path, name, 0), items, inner
                    if items.get("type") == "object" and "properties" in items:
                        yield from walk(items, (*path, name, 0))

        yield from walk(schema, ())

    def _place(self, schema: Schema, arguments: dict[str, Any], path: Path, value: Any) -> None:
        """Set ``path`` to ``value``, creating the objects/arrays on the way from the schema."""
        node: Any = arguments
        current: Schema = schema
        for step, next_step in itertools.pairwise(path):
            prop = (
                value_branch(current.get("properties", {}).get(step, {}), schema)
                if isinstance(step, str)
                else value_branch(current.get("items", {}), schema)
            )
            empty: Any = [] if isinstance(next_step, int) else {}
            if isinstance(step, int):
                while len(node) <= step:
                    node.append(type(empty)())
                fresh = not isinstance(node[step], type(empty)) or node[step] == empty
            else:
                fresh = not isinstance(node.get(step), type(empty))
            if fresh:
                node[step] = empty
                if isinstance(empty, dict):  # a new nested object (an array item too) needs its required fields
                    for name in prop.get("required", []):
                        node[step][name] = self.valid(prop["properties"][name], schema, name)
            node, current = node[step], prop
        last = path[-1]
        if isinstance(last, int):
            while len(node) <= last:
                node.append(None)
        node[last] = value

    def _pick(self, schema: Schema, want: Callable[[Schema], bool]) -> tuple[Path, Schema, Schema] | None:
        options = [slot for slot in self.slots(schema) if want(value_branch(slot[1], schema))]
        return self.rng.choice(options) if options else None

    def _result(
        self, tool: str, kind: str, schema: Schema, arguments: dict[str, Any], path: Path, value: Any, slot: Schema
    ) -> FuzzCase:
        self._place(schema, arguments, path, value)
        leaf = next(str(step) for step in reversed(path) if isinstance(step, str))
        rejected = not accepts(slot, schema, value)
        return FuzzCase(
            tool,
            kind,
            arguments,
            target=".".join(str(step) for step in path),
            must_fail=rejected,
            must_name=leaf,
        )

    def _mutate_boundary(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        slot = self._pick(schema, lambda s: s.get("type") in ("integer", "number"))
        if slot is None:
            return None
        path, prop, _ = slot
        inner = value_branch(prop, schema)
        low, high = inner.get("minimum"), inner.get("maximum")
        candidates: list[Any] = [0, -1, HUGE_INT, -HUGE_INT, 1e308]
        if low is not None:
            candidates += [low, low - 1]
        if high is not None:
            candidates += [high, high + 1]
        if inner.get("type") == "integer":
            candidates += [2.5, (low if low is not None else 0) + 0.5]
        else:
            candidates += [(low if low is not None else 0) - 0.001]
        return self._result(tool, "boundary", schema, arguments, path, self.rng.choice(candidates), prop)

    def _mutate_wrong_type(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        slot = self._pick(schema, lambda s: True)
        if slot is None:
            return None
        path, prop, _ = slot
        pool: list[Any] = [12345, 3.75, "not of this type", {"nested": "object"}, ["a", "list"], None, True]
        wrong = [value for value in pool if not accepts(prop, schema, value) and not _lax_accepts(prop, schema, value)]
        if not wrong:
            return None
        return self._result(tool, "wrong_type", schema, arguments, path, self.rng.choice(wrong), prop)

    def _mutate_missing(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        required = list(schema.get("required", []))
        if not required:
            return None
        name = self.rng.choice(required)
        arguments.pop(name, None)
        return FuzzCase(tool, "missing", arguments, target=name, must_fail=True, must_name=name)

    def _mutate_extra(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        if schema.get("additionalProperties", True) is not False:
            return None
        arguments[EXTRA_FIELD] = self.rng.choice(["surplus", 7, None, {"deep": [1]}])
        return FuzzCase(tool, "extra", arguments, target=EXTRA_FIELD, must_fail=True, must_name=EXTRA_FIELD)

    def _text_mutation(
        self, tool: str, schema: Schema, arguments: dict[str, Any], kind: str, piece: str
    ) -> FuzzCase | None:
        slot = self._pick(schema, lambda s: s.get("type") == "string" and "enum" not in s)
        if slot is None:
            return None
        path, prop, _ = slot
        inner = value_branch(prop, schema)
        base = self.valid(inner, schema, str(path[-1]))
        base = base if isinstance(base, str) else "text"
        cut = self.rng.randint(0, len(base))
        value = base[:cut] + piece + base[cut:]
        high = inner.get("maxLength")
        if high is not None and len(value) > high and self.rng.random() < 0.7:
            value = (piece + base)[:high]  # mostly keep within length, so the special text is what is tested
        return self._result(tool, kind, schema, arguments, path, value, prop)

    def _mutate_nul(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        return self._text_mutation(tool, schema, arguments, "nul", self.rng.choice([NUL, f"a{NUL}b", NUL * 3]))

    def _mutate_surrogate(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        return self._text_mutation(tool, schema, arguments, "surrogate", self.rng.choice(LONE_SURROGATES))

    def _mutate_rtl(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        return self._text_mutation(tool, schema, arguments, "rtl", self.rng.choice(RTL))

    def _mutate_emoji(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        return self._text_mutation(tool, schema, arguments, "emoji", "".join(self.rng.choices(EMOJI, k=3)))

    def _mutate_combining(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        return self._text_mutation(tool, schema, arguments, "combining", self.rng.choice(COMBINING))

    def _mutate_huge(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        slot = self._pick(schema, lambda s: s.get("type") == "string" and "enum" not in s)
        if slot is None:
            return None
        path, prop, _ = slot
        # ASCII and 2-byte text only: the body stays near 1 MB (JSON-escaped emoji would pass the transport limit).
        value = self.rng.choice(["x" * ONE_MB, "é" * (ONE_MB // 2), ("lorem ipsum, " * (ONE_MB // 13 + 1))[:ONE_MB]])
        return self._result(tool, "huge", schema, arguments, path, value, prop)

    def _mutate_unknown_id(self, tool: str, schema: Schema, arguments: dict[str, Any]) -> FuzzCase | None:
        slot = self._pick(schema, lambda s: bool(ID_PATTERN.match(s.get("pattern", ""))))
        if slot is None:
            return None
        path, prop, _ = slot
        prefix = ID_PATTERN.match(value_branch(prop, schema)["pattern"])
        assert prefix is not None
        return self._result(tool, "unknown_id", schema, arguments, path, made_up_id(self.rng, prefix.group(1)), prop)


def _lax_accepts(schema: Schema, root: Schema, value: Any) -> bool:
    """Coercions pydantic's lax mode makes that ``accepts`` does not model (bool/number for datetimes)."""
    formats = {branch.get("format") for branch in branches(schema, root)}
    return "date-time" in formats and isinstance(value, int | float) and not isinstance(value, bool)


# -------------------------------------------------------------------------------------------- schedules

# The mix of one tool's cases, repeated in order: about a third valid-ish, the rest one mutation each.
SCHEDULE: Sequence[str] = (
    "valid",
    "boundary",
    "wrong_type",
    "nul",
    "valid",
    "missing",
    "surrogate",
    "rtl",
    "unknown_id",
    "valid",
    "extra",
    "emoji",
    "wrong_type",
    "combining",
    "valid",
    "boundary",
)


def cases_for(
    fuzzer: ArgumentFuzzer, tool: str, schema: Schema, *, count: int, huge: int, schedule: Sequence[str] = SCHEDULE
) -> list[FuzzCase]:
    """``count`` cases for one tool: ``huge`` 1 MB-string cases first, then the schedule, in order."""
    kinds = ["huge"] * huge + [schedule[i % len(schedule)] for i in range(count - huge)]
    return [fuzzer.case(tool, schema, kind) for kind in kinds]


def fresh_key(rng: random.Random) -> str:
    """An idempotency key: mostly new, sometimes one of a few shared ones (replays and key conflicts)."""
    if rng.random() < 0.3:
        return f"fuzz-shared-{rng.randint(1, 3)}"
    return str(uuid.UUID(int=rng.getrandbits(128)))


def random_word(rng: random.Random, length: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


def pooled(values: Sequence[Any]) -> Maker:
    """A maker choosing from fixed values."""
    return lambda rng: rng.choice(list(values))


def merge_pools(base: Pools, extra: Mapping[str, Maker]) -> Pools:
    """``base`` with more field makers."""
    return Pools({**base.by_name, **extra}, base.ids, base.groups, base.pool_share)

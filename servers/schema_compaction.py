"""Smaller tool schemas in tools/list that accept exactly the same instances (issue 12, budgets).

Applied once to the built server (``compact_tool_schemas``), rewriting its tools in place, so every listing, the
schema lookup table and every tool call see the compacted schemas. Arguments are still validated by each tool's
pydantic model (fastmcp's ``FunctionTool.run``), never by the published schema, so compaction cannot change
what a call accepts; it must only keep the published schema true to it.

Input schemas (what a model reads) stay self-contained, without ``$ref``: some clients cannot follow one,
which is why fastmcp inlines them by default; they lose auto titles, ``default: null`` and docstrings doubled
by a field description. Output schemas (read by clients to check ``structuredContent``, not shown to models)
lose their annotations (``description``, ``default``, ``examples``), fold nullable unions, share repeated parts
through ``$defs`` and, above ``OUTPUT_SCHEMA_CHAR_CAP``, describe fewer levels of nesting. Each output change
only loosens the schema, so whatever the tools return still conforms.
"""

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from fastmcp import FastMCP
from fastmcp.server.middleware.dereference import DereferenceRefsMiddleware
from fastmcp.server.providers.fastmcp_provider import FastMCPProvider
from fastmcp.tools.base import Tool
from fastmcp.utilities.json_schema import dereference_refs
from mcp.types import ToolAnnotations

from promptsales.servers.catalogue import rewrite_local_tools

Schema = dict[str, Any]
# Keywords whose value is a schema, a list of schemas, or a map of names to schemas (JSON Schema 2020-12).
SCHEMA_VALUED = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "additionalItems",
    }
)
SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# A nullable branch can fold into ``type`` only when no keyword of the other branch applies to every type:
# ``maxLength``, ``properties``, ``format``... ignore a null instance, these do not.
APPLY_TO_ALL_TYPES = frozenset({"$ref", "anyOf", "oneOf", "allOf", "not", "if", "then", "else", "$dynamicRef"})
ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"})
NULL = {"type": "null"}
# A repeated part moves to $defs only when it is at least this big (characters of JSON): small ones cost more
# as a reference than they save.
MIN_SHARED_CHARS = 60
# An output schema bigger than this (characters of JSON) describes fewer levels of nesting: objects below the
# deepest kept level are published as just ``{"type": "object"}``, which the same results still satisfy.
OUTPUT_SCHEMA_CHAR_CAP = 1_000
OUTPUT_DEPTHS = (3, 2, 1)
MAX_CACHED_SCHEMAS = 4_096
Rule = Callable[[Schema], Schema]
# MCP's defaults for absent tool hints (readOnlyHint false is kept published: read or write is the hint that matters).
HINT_DEFAULTS: dict[str, bool] = {"destructive_hint": True, "idempotent_hint": False, "open_world_hint": True}
WRITE_ONLY_HINTS = frozenset({"destructive_hint", "idempotent_hint"})


def compact_input_schema(schema: Schema) -> Schema:
    """The input schema without auto titles, ``default: null`` of optional fields and doubled descriptions.

    A property's nullable union ``anyOf: [X, {type: null}]`` is published as ``type: [X, "null"]`` where that
    means the same (X a plain typed schema); the null stays allowed, as the tools accept it.
    """
    return _walk(_inline(schema), _compact_input_node)


def compact_output_schema(schema: Schema) -> Schema:
    """The output schema without annotations, nullable unions folded, repeated parts in ``$defs``, size capped.

    Every change only drops annotations or loosens what deep nesting must look like, so every result that was
    valid against the original schema is valid against the compacted one.
    """
    inlined = _inline(schema)
    if _has_ref(inlined):  # a recursive model: fastmcp could not inline it, so its $defs stay as they are
        return _walk(inlined, _compact_output_node)
    names = _def_names(schema)
    stripped = _walk(inlined, _strip_annotations)
    compacted = _shared_and_folded(stripped, names)
    for depth in OUTPUT_DEPTHS:
        if len(_canonical(compacted)) <= OUTPUT_SCHEMA_CHAR_CAP:
            break
        compacted = _shared_and_folded(_limit_depth(stripped, depth), names)
    return compacted


def compact_annotations(annotations: ToolAnnotations | None) -> ToolAnnotations | None:
    """The hints without those that say what MCP's defaults say, keeping ``readOnlyHint`` (read or write) always.

    Defaults (MCP spec, ToolAnnotations): destructiveHint true, idempotentHint false, openWorldHint true; and
    destructiveHint / idempotentHint mean nothing for a read-only tool.
    """
    if annotations is None:
        return None
    read_only = annotations.read_only_hint is True
    dropped = {
        name: None
        for name, default in HINT_DEFAULTS.items()
        if getattr(annotations, name) == default or (read_only and name in WRITE_ONLY_HINTS)
    }
    dropped = {name: None for name in dropped if getattr(annotations, name) is not None}
    return annotations.model_copy(update=dropped) if dropped else annotations


def compact_tool(tool: Tool, cache: dict[Any, Any]) -> Tool:
    """A copy of ``tool`` with compacted schemas (``cache`` maps a schema's JSON to its compacted form) and hints."""
    parameters = _cached(tool.parameters, compact_input_schema, cache)
    output = tool.output_schema
    compacted_output = None if output is None else _cached(output, compact_output_schema, cache)
    annotations = compact_annotations(tool.annotations)
    if parameters is tool.parameters and compacted_output is output and annotations is tool.annotations:
        return tool
    return tool.model_copy(
        update={"parameters": parameters, "output_schema": compacted_output, "annotations": annotations}
    )


def compact_tool_schemas(server: FastMCP) -> None:
    """Publish compacted schemas for every tool of the built ``server`` (a gateway adopts its contexts' tools first).

    The tools are rewritten once, in place, so listings, the schema lookup table and tool calls all see the
    compacted schemas without a per-call transform. The ``$ref``-inlining middleware of the server and its
    mounted servers is removed: it would undo the shared ``$defs`` of the output schemas, and the compaction
    inlines input schemas itself.
    """
    for each in (server, *_mounted_servers(server)):
        # Mounted servers keep their $defs too, so the shared parts keep their models' names.
        each.middleware[:] = [m for m in each.middleware if not isinstance(m, DereferenceRefsMiddleware)]
    cache: dict[Any, Any] = {}
    rewrite_local_tools(server, lambda tool: compact_tool(tool, cache))


def _mounted_servers(gateway: FastMCP) -> list[FastMCP]:
    """The servers mounted on ``gateway`` (a mount wraps each in a namespacing provider)."""
    servers: list[FastMCP] = []
    for provider in gateway.providers:
        while not isinstance(provider, FastMCPProvider) and hasattr(provider, "_inner"):
            provider = provider._inner  # fastmcp's _WrappedProvider; no public accessor
        if isinstance(provider, FastMCPProvider):
            servers.append(provider.server)
    return servers


def _cached(schema: Schema, compact: Rule, cache: dict[Any, Any]) -> Schema:
    """``compact(schema)``, computed once per distinct schema (listings copy tools but not always their schemas).

    A schema object seen before is found by identity (a tool call's lookup: no serialising on the hot path);
    an equal copy by its JSON. The identity entries keep their schema alive, so an id is never reused for another.
    """
    seen = cache.get((compact.__name__, id(schema)))
    if seen is not None and seen[0] is schema:
        return cast(Schema, seen[1])
    key = (compact.__name__, json.dumps(schema, sort_keys=True))
    found = cache.get(key)
    if found is None:
        found = cache[key] = compact(schema)
    if len(cache) > MAX_CACHED_SCHEMAS:  # listings that build new schema objects each time must not grow it forever
        cache.clear()
    cache[(compact.__name__, id(schema))] = (schema, found)
    return cast(Schema, found)


def _inline(schema: Schema) -> Schema:
    """The schema with local ``$ref``s inlined where fastmcp can (not recursive ones)."""
    return dereference_refs(schema) if "$defs" in schema or _has_ref(schema) else schema


def _has_ref(node: Any) -> bool:
    """Whether ``node`` holds a ``$ref`` anywhere."""
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_ref(item) for item in node)
    return False


def _walk(schema: Schema, rule: Rule) -> Schema:
    """Apply ``rule`` to every subschema of ``schema``, innermost first; data (enum, const, default) is kept."""
    out: Schema = {}
    for key, value in schema.items():
        if key in SCHEMA_VALUED:
            out[key] = _walk_value(value, rule)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_walk_value(item, rule) for item in value]
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk_value(sub, rule) for name, sub in value.items()}
        else:
            out[key] = value
    return rule(out)


def _walk_value(value: Any, rule: Rule) -> Any:
    """``_walk`` for a schema position, which may also hold a boolean schema."""
    return _walk(value, rule) if isinstance(value, dict) else value


def _compact_input_node(node: Schema) -> Schema:
    """One input subschema: no auto title, optional fields without ``default: null``."""
    node = {key: value for key, value in node.items() if key != "title"}
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = set(node.get("required", ()))
        node["properties"] = {
            name: _tidy_property(name, sub, optional=name not in required) for name, sub in properties.items()
        }
    return node


def _compact_output_node(node: Schema) -> Schema:
    """One output subschema: annotations dropped and nullable unions folded."""
    return _fold_nullable(_strip_annotations(node))


def _tidy_property(name: str, schema: Any, *, optional: bool) -> Any:
    """A property schema without ``default: null`` when optional, and without a description that is its name."""
    if not isinstance(schema, dict):
        return schema
    tidy = dict(schema)
    if optional and "default" in tidy and tidy["default"] is None:
        del tidy["default"]
    description = tidy.get("description")
    if isinstance(description, str) and _words(description) == _words(name):
        del tidy["description"]
    elif isinstance(description, str) and isinstance(tidy.get("anyOf"), list):
        # The field's own description says what it is for here; its model's docstring would say it twice.
        tidy["anyOf"] = [_without_description(branch) for branch in tidy["anyOf"]]
    # ``type: [X, "null"]`` says what ``anyOf: [X, {type: null}]`` says in fewer tokens (~8k over the catalogue).
    return _fold_nullable(tidy)


def _without_description(schema: Any) -> Any:
    """An object schema without its description (other schemas as they are)."""
    if isinstance(schema, dict) and "properties" in schema:
        return {key: value for key, value in schema.items() if key != "description"}
    return schema


def _words(text: str) -> str:
    """Lower-case words of ``text`` (``first_name`` and ``First name.`` are the same words)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _strip_annotations(node: Schema) -> Schema:
    """The subschema without annotation keywords (they never change which instances are valid)."""
    return {key: value for key, value in node.items() if key not in ANNOTATIONS}


def _fold_nullable(node: Schema) -> Schema:
    """``anyOf: [X, {type: null}]`` as X with ``null`` added to its type (and enum), when that means the same."""
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2 or NULL not in branches:
        return node
    other = branches[0] if branches[1] == NULL else branches[1]
    siblings = {key: value for key, value in node.items() if key != "anyOf"}
    if (
        not isinstance(other, dict)
        or "type" not in other
        or APPLY_TO_ALL_TYPES & other.keys()
        or siblings.keys() & other.keys()
    ):
        return node
    folded = dict(other)
    types = folded["type"] if isinstance(folded["type"], list) else [folded["type"]]
    folded["type"] = [*types, "null"] if "null" not in types else types
    if "const" in folded:
        folded["enum"] = [folded.pop("const")]
    if "enum" in folded and None not in folded["enum"]:
        folded["enum"] = [*folded["enum"], None]
    return {**folded, **siblings}


def _shared_and_folded(schema: Schema, names: dict[str, str]) -> Schema:
    """Repeated parts moved to ``$defs``, then nullable unions folded."""
    return _walk(_share_repeated_parts(schema, names), _fold_nullable)


def _limit_depth(node: Any, depth: int) -> Any:
    """``node`` with objects nested deeper than ``depth`` levels of properties reduced to their type."""
    if not isinstance(node, dict):
        return node
    if depth <= 0 and ("properties" in node or isinstance(node.get("additionalProperties"), dict)):
        return {"type": node["type"]} if "type" in node else {}
    out: Schema = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _limit_depth(sub, depth - 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "prefixItems", *SCHEMA_LISTS):
            out[key] = (
                [_limit_depth(v, depth) for v in value] if isinstance(value, list) else _limit_depth(value, depth)
            )
        else:
            out[key] = value
    return out


def _def_names(schema: Schema) -> dict[str, str]:
    """The original ``$defs`` names by the canonical JSON of each definition once inlined and stripped."""
    definitions = schema.get("$defs")
    if not isinstance(definitions, dict):
        return {}
    names: dict[str, str] = {}
    for name in definitions:
        body = _inline({"$defs": definitions, "$ref": f"#/$defs/{name}"})
        if not _has_ref(body):
            names.setdefault(_canonical(_walk(body, _strip_annotations)), name)
    return names


def _canonical(node: Any) -> str:
    """A key equal for equal schemas."""
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def _share_repeated_parts(schema: Schema, names: dict[str, str]) -> Schema:
    """Move subschemas that occur more than once into top-level ``$defs`` and point at them with ``$ref``."""
    definitions: Schema = {}
    while True:
        counts: Counter[str] = Counter()
        for part in _subschemas(schema, root=True):
            counts[_canonical(part)] += 1
        for body in definitions.values():
            for part in _subschemas(body, root=False):
                counts[_canonical(part)] += 1
        repeated = [(len(key), key) for key, count in counts.items() if count > 1 and len(key) >= MIN_SHARED_CHARS]
        if not repeated:
            break
        _, key = max(repeated)  # the biggest first: sharing it also shares everything inside it
        name = _unique_name(names.get(key, "Part"), definitions)
        reference = {"$ref": f"#/$defs/{name}"}
        definitions = {n: _replace(body, key, reference) for n, body in definitions.items()}
        definitions[name] = json.loads(key)
        schema = _replace(schema, key, reference, root=True)
    if definitions:
        schema = {**schema, "$defs": definitions}
    return schema


def _subschemas(node: Any, *, root: bool) -> list[Schema]:
    """Every subschema below ``node`` (and ``node`` itself unless it is the root)."""
    found: list[Schema] = []
    if not isinstance(node, dict):
        return found
    if not root:
        found.append(node)
    for key, value in node.items():
        if key in SCHEMA_VALUED:
            found += _subschemas(value, root=False)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for item in value:
                found += _subschemas(item, root=False)
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            for sub in value.values():
                found += _subschemas(sub, root=False)
    return found


def _replace(node: Any, key: str, reference: Schema, *, root: bool = False) -> Any:
    """``node`` with every subschema equal to ``key`` replaced by ``reference``."""
    if not isinstance(node, dict):
        return node
    if not root and _canonical(node) == key:
        return reference
    out: Schema = {}
    for name, value in node.items():
        if name in SCHEMA_VALUED:
            out[name] = _replace(value, key, reference)
        elif name in SCHEMA_LISTS and isinstance(value, list):
            out[name] = [_replace(item, key, reference) for item in value]
        elif name in SCHEMA_MAPS and isinstance(value, dict):
            out[name] = {sub_name: _replace(sub, key, reference) for sub_name, sub in value.items()}
        else:
            out[name] = value
    return out


def _unique_name(base: str, taken: Schema) -> str:
    """``base``, or ``base`` with the first free number appended."""
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"

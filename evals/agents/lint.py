"""Schema lint over tools/list: what makes a tool hard for a model to pick or call right."""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcp.types import Tool

# Parameter names that usually take one of a closed set of values: a schema enum tells the model which.
CLOSED_SET_NAMES = frozenset(
    {"status", "kind", "type", "channel", "mode", "stage", "source", "format", "platform", "direction", "decision",
     "subject", "objective", "breakdown", "chart", "capability", "metric", "by", "conversion", "pacing", "language"}
)  # fmt: skip
# Free-form strings a model fills from an earlier result or makes up safely: no example needed.
NO_EXAMPLE_NEEDED = frozenset({"cursor", "idempotency_key", "confirmation_token", "reason", "note", "name"})
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
RULES = {
    "description_missing": "error",
    "description_too_long": "error",
    "param_undocumented": "error",
    "string_without_max_length": "error",
    "closed_set_without_enum": "error",
    "annotations_missing": "error",
    "free_string_without_example": "warning",
}
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|incl|approx)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken by one tool (and parameter)."""

    rule: str
    tool: str
    param: str | None
    detail: str

    @property
    def severity(self) -> str:
        """error or warning."""
        return RULES[self.rule]


@dataclass
class LintReport:
    """Every finding, counts per rule and the tools with the most findings."""

    tools: int
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Findings per rule (every rule listed, zero included)."""
        counted = Counter(f.rule for f in self.findings)
        return {rule: counted.get(rule, 0) for rule in RULES}

    def worst(self, n: int = 10) -> list[tuple[str, int]]:
        """The ``n`` tools with the most findings."""
        return Counter(f.tool for f in self.findings).most_common(n)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "tools": self.tools,
            "counts": self.counts(),
            "worst": self.worst(),
            "findings": [{**asdict(f), "severity": f.severity} for f in self.findings],
        }


def sentences(text: str) -> int:
    """Sentences in a description (abbreviations such as e.g. do not end one)."""
    cleaned = _ABBREVIATIONS.sub(r"\1", text.strip())
    return len(_SENTENCE_END.findall(cleaned)) + (0 if not cleaned or cleaned[-1] in ".!?" else 1)


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A parameter's non-null alternatives (Optional[...] is anyOf [..., null])."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [o for o in options if o.get("type") != "null"]
    kinds = schema.get("type")
    if isinstance(kinds, list):  # Optional[...] published as type: [X, "null"]
        return [{**schema, "type": kind} for kind in kinds if kind != "null"]
    return [schema]


def _is_string(branch: dict[str, Any]) -> bool:
    return branch.get("type") == "string"


def _explained(branch: dict[str, Any]) -> bool:
    """An enum, const, format or pattern says what a value looks like."""
    return any(key in branch for key in ("enum", "const", "format", "pattern"))


def lint_tool(tool: Tool) -> list[Finding]:
    """Every finding for one tool."""
    found: list[Finding] = []
    name = tool.name
    description = (tool.description or "").strip()
    if not description:
        found.append(Finding("description_missing", name, None, "no description"))
    else:
        count = sentences(description)
        if count > 3 or len(description) > 400:
            found.append(Finding("description_too_long", name, None, f"{count} sentences, {len(description)} chars"))
    hints = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
    if "readOnlyHint" not in hints:
        found.append(Finding("annotations_missing", name, None, f"hints present: {sorted(hints)}"))
    for param, schema in tool.input_schema.get("properties", {}).items():
        found.extend(_lint_param(name, param, schema))
    return found


def _lint_param(tool: str, param: str, schema: dict[str, Any]) -> list[Finding]:
    """Findings for one top-level parameter."""
    found = []
    branches = _branches(schema)
    described = bool(schema.get("description")) or any(b.get("description") for b in branches)
    if not described and not any(_explained(b) for b in branches):
        found.append(Finding("param_undocumented", tool, param, "no description, enum or format"))
    strings = [b for b in branches if _is_string(b)]
    for branch in strings:
        if "maxLength" not in branch and not _explained(branch):
            found.append(Finding("string_without_max_length", tool, param, "unbounded string"))
    if param in CLOSED_SET_NAMES and strings and not any("enum" in b for b in strings):
        found.append(Finding("closed_set_without_enum", tool, param, "a closed set of values without an enum"))
    free = [b for b in strings if not _explained(b)]
    text = " ".join(str(x) for x in (schema.get("description"), *(b.get("description") for b in branches)) if x)
    if free and param not in NO_EXAMPLE_NEEDED and not _has_example(text, schema, branches):
        found.append(Finding("free_string_without_example", tool, param, "free-form string without e.g./examples"))
    return found


def _has_example(text: str, schema: dict[str, Any], branches: list[dict[str, Any]]) -> bool:
    if "examples" in schema or any("examples" in b for b in branches):
        return True
    lowered = text.lower()
    return "e.g." in lowered or "for example" in lowered or "such as" in lowered


def lint(tools: Sequence[Tool]) -> LintReport:
    """Lint every tool of a tools/list."""
    report = LintReport(tools=len(tools))
    for tool in tools:
        report.findings.extend(lint_tool(tool))
    return report

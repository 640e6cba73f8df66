"""Sizes of the tool list a client is shown: what a model reads and the full tools/list (issue 12, budgets).

Shared by ``evals/tool_budget.py`` (prints the figures) and the budget test (asserts the limits). Sizes are
characters of the tools' wire JSON; tokens are estimated as characters / 4 (no offline tokenizer is
installed, and downloading one at run time is not allowed).
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.types import Tool as McpTool

MODEL_FACING_TOKEN_BUDGET = 20_000
FULL_TOKEN_BUDGET = 40_000
INPUT_SCHEMA_CHAR_LIMIT = 8_000
CHARS_PER_TOKEN = 4
METHOD = (
    "characters of json.dumps(ensure_ascii=False) with its default separators (', ' and ': ') of each tool's "
    "tools/list wire JSON; tokens = ceil(characters / 4), no tokenizer"
)
# What a model is shown of a tool; the output schema is for the client, not for the model.
MODEL_FACING_KEYS = ("name", "title", "description", "inputSchema", "annotations")


def chars(value: Any) -> int:
    """Characters of ``value`` as JSON (the counting basis of every figure here)."""
    return len(json.dumps(value, ensure_ascii=False))


def tokens(characters: int) -> int:
    """Estimated tokens of ``characters`` of JSON text."""
    return math.ceil(characters / CHARS_PER_TOKEN)


def wire(tool: McpTool) -> dict[str, Any]:
    """The tool as tools/list sends it (camelCase keys, no nulls)."""
    dumped: dict[str, Any] = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


@dataclass(frozen=True)
class ToolSize:
    """One tool's sizes in characters: what a model reads, the input and output schemas, the whole entry."""

    name: str
    context: str
    model_facing: int
    input_schema: int
    output_schema: int
    full: int


@dataclass(frozen=True)
class Budget:
    """Every tool's sizes and the totals against the issue-12 budgets."""

    tools: tuple[ToolSize, ...]

    @property
    def model_facing_chars(self) -> int:
        """Characters a model is shown for all tools (as a JSON list)."""
        return sum(t.model_facing for t in self.tools) + _list_overhead(len(self.tools))

    @property
    def full_chars(self) -> int:
        """Characters of all tools' full entries (output schemas included, as a JSON list)."""
        return sum(t.full for t in self.tools) + _list_overhead(len(self.tools))

    @property
    def model_facing_tokens(self) -> int:
        """Estimated tokens a model is shown."""
        return tokens(self.model_facing_chars)

    @property
    def full_tokens(self) -> int:
        """Estimated tokens of the full tools/list."""
        return tokens(self.full_chars)

    def largest_input_schemas(self, count: int = 10) -> list[ToolSize]:
        """The tools with the largest input schemas, largest first."""
        return sorted(self.tools, key=lambda t: (-t.input_schema, t.name))[:count]

    def by_context(self) -> dict[str, dict[str, int]]:
        """Tool count and summed sizes per context (the name's prefix before the first ``_``)."""
        totals: dict[str, dict[str, int]] = {}
        for tool in self.tools:
            row = totals.setdefault(
                tool.context, {"tools": 0, "model_facing": 0, "input_schema": 0, "output_schema": 0, "full": 0}
            )
            row["tools"] += 1
            row["model_facing"] += tool.model_facing
            row["input_schema"] += tool.input_schema
            row["output_schema"] += tool.output_schema
            row["full"] += tool.full
        return totals

    def summary(self) -> dict[str, Any]:
        """The grand totals, limits and whether each is met (for printing and ``--json-out``)."""
        largest = self.largest_input_schemas(1)
        largest_input = largest[0].input_schema if largest else 0
        return {
            "method": METHOD,
            "tools": len(self.tools),
            "model_facing_chars": self.model_facing_chars,
            "model_facing_tokens": self.model_facing_tokens,
            "model_facing_budget_tokens": MODEL_FACING_TOKEN_BUDGET,
            "full_chars": self.full_chars,
            "full_tokens": self.full_tokens,
            "full_budget_tokens": FULL_TOKEN_BUDGET,
            "largest_input_schema_chars": largest_input,
            "input_schema_limit_chars": INPUT_SCHEMA_CHAR_LIMIT,
            "within_budget": self.model_facing_tokens <= MODEL_FACING_TOKEN_BUDGET
            and self.full_tokens <= FULL_TOKEN_BUDGET
            and largest_input <= INPUT_SCHEMA_CHAR_LIMIT,
        }


def measure_tool(entry: Mapping[str, Any]) -> ToolSize:
    """Sizes of one tool's wire JSON entry."""
    name = str(entry["name"])
    facing = {key: entry[key] for key in MODEL_FACING_KEYS if key in entry}
    output = entry.get("outputSchema")
    return ToolSize(
        name=name,
        context=name.split("_", 1)[0],
        model_facing=chars(facing),
        input_schema=chars(entry["inputSchema"]),
        output_schema=chars(output) if output is not None else 0,
        full=chars(dict(entry)),
    )


def measure(entries: Iterable[Mapping[str, Any]]) -> Budget:
    """Sizes of every tool's wire JSON entry, sorted by name."""
    return Budget(tuple(sorted((measure_tool(e) for e in entries), key=lambda t: t.name)))


def _list_overhead(count: int) -> int:
    """The brackets and ``, `` separators of a JSON list of ``count`` items."""
    return 2 + max(count - 1, 0) * 2

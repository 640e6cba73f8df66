"""Compact mode for small-context clients: three meta-tools in place of the catalogue.

``search_tools`` ranks the tools this connection may use by the words of a query, ``describe_tool`` gives one
tool's input schema and annotations, and ``call_tool`` calls it through the server's own ``tools/call`` path, so
the view, scopes, plan, rate limit, idempotency and error wording are exactly those of a direct call.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastmcp import Context
from fastmcp.exceptions import NotFoundError, ToolError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool, ToolResult
from mcp.types import ToolAnnotations
from pydantic import Field

from promptsales.servers.tool_view import ToolViewGate, reading_catalogue, through_meta_tool
from promptsales.servers.toolsets import View

SEARCH, DESCRIBE, CALL = "search_tools", "describe_tool", "call_tool"
META_TOOLS = frozenset({SEARCH, DESCRIBE, CALL})
# Words in a tool's name say more about it than words in its description.
NAME_WEIGHT, DESCRIPTION_WEIGHT = 3.0, 1.0
SUMMARY_CHARS = 160
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A crude singular, so 'leads' finds 'lead' and 'companies' finds 'company'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """The distinct words of ``text`` (lower case, split at anything not a letter or digit, singular)."""
    return {_stem(word) for word in _WORD.findall(text.lower()) if len(word) >= 2}


def summary(description: str | None) -> str:
    """The first line of a description, cut to a length a listing can afford."""
    line = (description or "").strip().split("\n", 1)[0].strip()
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Card:
    """What search ranks of a tool: its name and description."""

    name: str
    description: str


def rank(cards: Sequence[Card], query: str, limit: int) -> list[Card]:
    """The ``limit`` cards that best match ``query``, best first; cards sharing no word with it are left out.

    Each query word scores its inverse document frequency log(1 + N/df) (rarer words weigh more, as in TF-IDF;
    Manning, Raghavan & Schütze, *Introduction to Information Retrieval*, §6.2), times 3 when the word is in the
    tool's name and 1 when only in its description. Ties go by name.
    """
    terms = words(query)
    documents = [(words(card.name), words(card.description)) for card in cards]
    frequency = {term: sum(1 for name, text in documents if term in name or term in text) for term in terms}
    scored = []
    for card, (name, text) in zip(cards, documents, strict=True):
        score = 0.0
        for term in terms:
            weight = NAME_WEIGHT if term in name else DESCRIPTION_WEIGHT if term in text else 0.0
            if weight:
                score += weight * math.log(1 + len(cards) / frequency[term])
        if score > 0:
            scored.append((-score, card.name, card))
    return [card for _, _, card in sorted(scored, key=lambda item: item[:2])[:limit]]


class CompactTools(Middleware):
    """Answers the three meta-tools on compact connections (placed after the call middleware, so a meta-tool
    call is timed, counted and its errors worded like any other)."""

    def __init__(self, gate: ToolViewGate) -> None:
        self.gate = gate
        self._tools = {read_only: self._build(read_only=read_only) for read_only in (False, True)}

    def listing(self, view: View) -> Sequence[Tool]:
        """The compact tools/list of ``view`` (call_tool is read-only when the view is)."""
        return list(self._tools[view.read_only].values())

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        """Run a meta-tool called on a compact connection; pass everything else on."""
        name = context.message.name
        if name not in META_TOOLS or through_meta_tool.get():
            return await call_next(context)
        view = self.gate.current_view()
        if not view.compact:
            return await call_next(context)
        return await self._tools[view.read_only][name].run(dict(context.message.arguments or {}))

    async def catalogue(self, ctx: Context) -> list[Tool]:
        """The tools this connection may use: tools/list through every middleware (view, scopes, plan)."""
        token = reading_catalogue.set(True)
        try:
            tools = await ctx.fastmcp.list_tools()
        finally:
            reading_catalogue.reset(token)
        unique: dict[str, Tool] = {}
        for tool in tools:
            unique.setdefault(tool.name, tool)
        return list(unique.values())

    def _build(self, *, read_only: bool) -> dict[str, Tool]:
        """The three meta-tools as fastmcp tools (their schemas are listed; arguments validated by fastmcp)."""

        async def search_tools(
            query: Annotated[str, Field(min_length=1, max_length=500, description="Words describing the task.")],
            ctx: Context,
            limit: Annotated[int, Field(ge=1, le=50, description="Most tools to return.")] = 10,
        ) -> dict[str, Any]:
            """The best matches of ``query`` among the tools this connection may use."""
            tools = await self.catalogue(ctx)
            by_name = {tool.name: tool for tool in tools}
            found = rank([Card(tool.name, tool.description or "") for tool in tools], query, limit)
            return {
                "tools": [
                    {
                        "name": card.name,
                        "description": summary(card.description),
                        "access": "read" if _reads(by_name[card.name]) else "write",
                    }
                    for card in found
                ],
                "searched": len(tools),
            }

        async def describe_tool(
            name: Annotated[str, Field(min_length=1, max_length=200, description="A name from search_tools.")],
            ctx: Context,
        ) -> dict[str, Any]:
            """One reachable tool's full description, input schema and annotations."""
            tool = next((tool for tool in await self.catalogue(ctx) if tool.name == name), None)
            if tool is None:
                raise ToolError(_unknown(name))
            annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
            return {
                "name": tool.name,
                "description": tool.description or "",
                "access": "read" if _reads(tool) else "write",
                "input_schema": tool.parameters,
                "annotations": annotations,
            }

        async def call_tool(
            name: Annotated[str, Field(min_length=1, max_length=200, description="A name from search_tools.")],
            ctx: Context,
            arguments: Annotated[
                dict[str, Any] | None, Field(description="Arguments matching describe_tool's input_schema.")
            ] = None,
        ) -> ToolResult:
            """The named tool's own result, called through the server's tools/call path."""
            if name in META_TOOLS:
                raise ToolError(f"{name} is a meta-tool: call it directly, not through call_tool.")
            token = through_meta_tool.set(True)
            try:
                return await ctx.fastmcp.call_tool(name, arguments or {})
            except NotFoundError:
                raise ToolError(_unknown(name)) from None
            finally:
                through_meta_tool.reset(token)

        reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
        caller = ToolAnnotations(read_only_hint=True) if read_only else ToolAnnotations(read_only_hint=False)
        access = "read-only tools" if read_only else "tools"
        return {
            SEARCH: Tool.from_function(
                search_tools,
                name=SEARCH,
                description=f"Find {access} for a task: ranks the catalogue by the query's words and returns "
                "names, one-line descriptions and read/write access. Start here.",
                annotations=reads,
                output_schema=None,
            ),
            DESCRIBE: Tool.from_function(
                describe_tool,
                name=DESCRIBE,
                description="One tool's input schema and annotations: read it before call_tool.",
                annotations=reads,
                output_schema=None,
            ),
            CALL: Tool.from_function(
                call_tool,
                name=CALL,
                description="Call a tool by name with its arguments; returns that tool's own result or error.",
                annotations=caller,
                output_schema=None,
            ),
        }


def _reads(tool: Tool) -> bool:
    """Whether the tool declares that it only reads (readOnlyHint)."""
    return bool(tool.annotations and tool.annotations.read_only_hint)


def _unknown(name: str) -> str:
    """The refusal of a name this connection cannot reach, pointing at search_tools."""
    return f"Unknown tool: {name!r}. search_tools lists the tools this connection can use."

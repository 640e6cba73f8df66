"""The model interface the runner drives: a provider-neutral conversation in, one assistant turn out."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as offered to the model: its MCP name, description and input JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for; ``parse_error`` is set when its arguments were not a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]
    parse_error: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call returned: the text the model reads, the error flag, and the structured data (not sent)."""

    call_id: str
    name: str
    content: str
    is_error: bool
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One assistant turn: text, the tool calls it asks for (none: it answered) and the tokens it cost."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation entry: the user's request, an assistant turn, or the results of its tool calls."""

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    turn: Turn | None = None
    results: tuple[ToolResult, ...] = field(default_factory=tuple)


class ModelAdapter(Protocol):
    """Anything that answers a conversation with the next turn (an SDK adapter or a scripted fake)."""

    async def next_turn(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Turn:
        """The assistant's next turn."""
        ...


def parse_arguments(raw: str | None) -> tuple[dict[str, Any], str | None]:
    """A tool call's JSON arguments as a dict, or an empty dict and why they could not be read."""
    if not raw:
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        return {}, f"arguments are not valid JSON: {error}"
    if not isinstance(value, dict):
        return {}, "arguments are not a JSON object"
    return value, None

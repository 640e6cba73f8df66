"""SDK adapters: the neutral conversation translated to OpenAI tool calling and Anthropic tool use, and back."""

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from evals.agents.model import Message, ToolCall, ToolSpec, Turn, parse_arguments

Create = Callable[..., Awaitable[Any]]


def openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tools in the Chat Completions "function" form."""
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in tools
    ]


def openai_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation as Chat Completions messages (tool results are one "tool" message per call)."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if message.role == "user":
            out.append({"role": "user", "content": message.text})
        elif message.role == "assistant" and message.turn is not None:
            entry: dict[str, Any] = {"role": "assistant", "content": message.turn.text or None}
            if message.turn.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call in message.turn.tool_calls
                ]
            out.append(entry)
        else:
            out.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in message.results)
    return out


def openai_turn(response: Any) -> Turn:
    """A ChatCompletion (first choice) as a Turn."""
    message = response.choices[0].message
    calls = []
    for call in message.tool_calls or ():
        function = getattr(call, "function", None)
        if function is None:  # a custom (non-function) tool call: not offered, so not expected
            continue
        arguments, problem = parse_arguments(function.arguments)
        calls.append(ToolCall(id=call.id, name=function.name, arguments=arguments, parse_error=problem))
    usage = response.usage
    return Turn(
        text=message.content or "",
        tool_calls=tuple(calls),
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
    )


class OpenAIAdapter:
    """Chat Completions with tools (OpenAI or any compatible base URL)."""

    def __init__(self, create: Create, model: str, *, temperature: float | None = 0.0) -> None:
        self.create = create
        self.model = model
        self.temperature = temperature

    async def next_turn(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Turn:
        """One completion request."""
        extra: dict[str, Any] = {} if self.temperature is None else {"temperature": self.temperature}
        response = await self.create(
            model=self.model, messages=openai_messages(system, messages), tools=openai_tools(tools), **extra
        )
        return openai_turn(response)


def anthropic_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tools in the Messages API form."""
    return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]


def anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation as Messages API turns (tool results go back in a user turn of tool_result blocks)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "user":
            out.append({"role": "user", "content": message.text})
        elif message.role == "assistant" and message.turn is not None:
            blocks: list[dict[str, Any]] = []
            if message.turn.text:
                blocks.append({"type": "text", "text": message.turn.text})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.turn.tool_calls
            )
            out.append({"role": "assistant", "content": blocks})
        else:
            results = [
                {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
                for r in message.results
            ]
            out.append({"role": "user", "content": results})
    return out


def anthropic_turn(response: Any) -> Turn:
    """A Message as a Turn."""
    texts, calls = [], []
    for block in response.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            arguments = block.input if isinstance(block.input, dict) else {}
            problem = None if isinstance(block.input, dict) else "input is not an object"
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(arguments), parse_error=problem))
    usage = response.usage
    return Turn(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )


class AnthropicAdapter:
    """The Messages API with tool use."""

    def __init__(self, create: Create, model: str, *, max_tokens: int = 2048) -> None:
        self.create = create
        self.model = model
        self.max_tokens = max_tokens

    async def next_turn(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Turn:
        """One messages.create request."""
        response = await self.create(
            model=self.model,
            max_tokens=self.max_tokens,
            system=system,
            messages=anthropic_messages(messages),
            tools=anthropic_tools(tools),
        )
        return anthropic_turn(response)

"""Fake models for offline runs: one replays a task's expected path, one deliberately does the wrong thing."""

from collections.abc import Mapping, Sequence
from typing import Any

from evals.agents.model import Message, ToolCall, ToolSpec, Turn
from evals.agents.spec import Task, resolve

# Read-only tools the wrong policy calls instead of the right ones (the first not in the task's path).
DISTRACTORS = ("crm_list_segments", "business_get_usage", "content_get_ai_settings")


class ScriptedModel:
    """Replays the task's expected path, one call a turn, arguments resolved from the fixtures and earlier results."""

    def __init__(self, task: Task, saved: Mapping[str, Any]) -> None:
        self.task = task
        self.saved = dict(saved)

    async def next_turn(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Turn:
        """The next step of the path, or a closing answer once it is done."""
        results = [r for m in messages if m.role == "tool" for r in m.results]
        done = len(results)
        if done:
            previous = self.task.path[done - 1]
            if previous.save and results[-1].data is not None:
                self.saved[previous.save] = results[-1].data
        if done >= len(self.task.path):
            return Turn(text="Done: every step of the request is carried out.", input_tokens=0, output_tokens=0)
        step = self.task.path[done]
        arguments = resolve(dict(step.args), self.saved)
        return Turn(text="", tool_calls=(ToolCall(id=f"call_{done}", name=step.tool, arguments=arguments),))


class WrongModel:
    """Calls one unrelated read tool and claims success: every task's check must fail on it."""

    def __init__(self, task: Task, saved: Mapping[str, Any]) -> None:
        self.tool = next(name for name in DISTRACTORS if name not in task.expected_tools)

    async def next_turn(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Turn:
        """One distractor call, then a confident answer."""
        if any(m.role == "tool" for m in messages):
            return Turn(text="All done, as asked.")
        return Turn(text="", tool_calls=(ToolCall(id="call_0", name=self.tool, arguments={}),))

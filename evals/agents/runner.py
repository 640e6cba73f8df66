"""The agent loop: fixtures, then model turn → tool calls over MCP → results until an answer or the cap; the check."""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastmcp import Client
from mcp.types import Tool

from evals.agents.model import Message, ModelAdapter, ToolResult, ToolSpec, Turn
from evals.agents.spec import CallRecord, CheckContext, CheckFailed, SetupFailed, Step, Task, dates, resolve
from evals.agents.suite import Suite, call

ModelFactory = Callable[[Task, Mapping[str, Any]], ModelAdapter]
MAX_RESULT_CHARS = 12_000
SYSTEM_PROMPT = (
    "You are the sales and marketing operations agent of a company using PromptSales. Carry out the user's request "
    "with the tools: look up ids you need instead of guessing them, prefer the most specific tool, and do not ask "
    "the user questions back (choose sensible defaults). When the request is done, answer briefly. Today is {today}."
)


@dataclass
class TaskResult:
    """One task's outcome and cost."""

    id: str
    context: str
    success: bool
    check_passed: bool
    problems: list[str] = field(default_factory=list)
    tool_calls: int = 0
    wrong_tool_calls: int = 0
    tool_errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    turns: int = 0
    hit_step_cap: bool = False
    seconds: float = 0.0
    calls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answer: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def specs_of(tools: Sequence[Tool]) -> list[ToolSpec]:
    """tools/list as ToolSpecs for the model."""
    return [ToolSpec(t.name, t.description or "", dict(t.input_schema)) for t in tools]


async def run_setup(suite: Suite, client: Client[Any], task: Task, saved: dict[str, Any]) -> None:
    """Seed the task's fixtures through the real tools (and hooks such as advancing the sandbox clock)."""
    for item in task.setup:
        if not isinstance(item, Step):
            await item(suite, client, saved)
            continue
        arguments = resolve(dict(item.args), saved)
        if item.actor:
            with suite.acting_as(item.actor):
                outcome = await call(client, item.tool, arguments)
        else:
            outcome = await call(client, item.tool, arguments)
        if outcome.is_error:
            raise SetupFailed(f"{task.id}: setup {item.tool} failed: {outcome.text[:400]}")
        if item.save:
            saved[item.save] = outcome.data
    await suite.runtime.drain_events()  # the fixtures' events reach their consumers (e.g. analytics journeys)


async def run_task(
    suite: Suite, task: Task, model_for: ModelFactory, *, max_steps: int = 12, system_prompt: str = SYSTEM_PROMPT
) -> TaskResult:
    """Run one task on a fresh database and judge it (success: the check passes and no call failed)."""
    started = time.perf_counter()
    result = TaskResult(id=task.id, context=task.context, success=False, check_passed=False)
    expected = set(task.expected_tools)
    async with suite.session(**task.settings) as client:
        saved: dict[str, Any] = {"dates": dates(datetime.now(UTC))}
        await run_setup(suite, client, task, saved)
        specs = specs_of(await client.list_tools())
        model = model_for(task, saved)
        system = system_prompt.format(today=saved["dates"]["today"])
        messages: list[Message] = [Message(role="user", text=resolve(task.request, saved))]
        records: list[CallRecord] = []
        for _ in range(max_steps):
            try:
                turn: Turn = await model.next_turn(system, messages, specs)
            except Exception as failure:  # a provider error or a broken script ends the task, not the run
                result.problems.append(f"model failed: {failure!r}")
                break
            result.turns += 1
            result.input_tokens += turn.input_tokens
            result.output_tokens += turn.output_tokens
            messages.append(Message(role="assistant", turn=turn))
            if not turn.tool_calls:
                result.answer = turn.text
                break
            outputs = []
            for tool_call in turn.tool_calls:
                record = await _execute(client, tool_call.name, tool_call.arguments, tool_call.parse_error)
                records.append(record)
                outputs.append(
                    ToolResult(
                        call_id=tool_call.id,
                        name=tool_call.name,
                        content=record.text[:MAX_RESULT_CHARS],
                        is_error=record.is_error,
                        data=record.data,
                    )
                )
            messages.append(Message(role="tool", results=tuple(outputs)))
        else:
            result.hit_step_cap = True
        await suite.runtime.drain_events()  # deliver the outbox events (e.g. a captured lead counted for a campaign)
        result.calls = [r.name for r in records]
        result.tool_calls = len(records)
        result.wrong_tool_calls = sum(r.name not in expected for r in records)
        result.errors = [f"{r.name}: {r.text[:200]}" for r in records if r.is_error]
        result.tool_errors = len(result.errors)
        try:
            await task.check(CheckContext(client=client, saved=saved, calls=records))
            result.check_passed = True
        except CheckFailed as failure:
            result.problems.append(str(failure))
        except (KeyError, IndexError, TypeError, ValueError) as failure:  # a result without the fields checked
            result.problems.append(f"check could not read the end state: {failure!r}")
    result.success = (
        result.check_passed and result.tool_errors == 0 and not result.hit_step_cap and len(result.problems) == 0
    )
    result.seconds = round(time.perf_counter() - started, 3)
    return result


async def _execute(client: Client[Any], name: str, arguments: dict[str, Any], parse_error: str | None) -> CallRecord:
    """Run one requested call (unreadable arguments count as a failed call without reaching the server)."""
    if parse_error is not None:
        return CallRecord(name=name, arguments={}, is_error=True, data=None, text=parse_error)
    outcome = await call(client, name, arguments)
    return CallRecord(name=name, arguments=arguments, is_error=outcome.is_error, data=outcome.data, text=outcome.text)


async def run_tasks(
    suite: Suite, tasks: Sequence[Task], model_for: ModelFactory, *, max_steps: int = 12
) -> list[TaskResult]:
    """Run tasks one after another (each on its own database); a setup failure is reported as a failed task."""
    results = []
    for task in tasks:
        try:
            results.append(await run_task(suite, task, model_for, max_steps=max_steps))
        except SetupFailed as failure:
            broken = TaskResult(id=task.id, context=task.context, success=False, check_passed=False)
            broken.problems.append(f"setup failed: {failure}")
            results.append(broken)
    return results

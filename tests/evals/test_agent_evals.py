"""Agent evals: the task set matches tools/list, the fake-model run passes its checks (and a wrong policy fails them),
retrieval and lint produce figures, and the SDK adapters translate conversations and responses both ways."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from anthropic.types import Message as AnthropicMessage
from mcp.types import Tool
from openai.types.chat import ChatCompletion

from evals.agents.adapters import AnthropicAdapter, OpenAIAdapter
from evals.agents.lint import RULES, lint, lint_tool, sentences
from evals.agents.model import Message, ToolCall, ToolResult, ToolSpec, Turn
from evals.agents.retrieval import BM25, evaluate, tokens
from evals.agents.runner import run_tasks, specs_of
from evals.agents.scripted import ScriptedModel, WrongModel
from evals.agents.spec import resolve
from evals.agents.suite import Suite
from evals.agents.tasks import CONTEXTS, TASKS, select

# One light task per context (no live campaign in the setup, so the run stays a few seconds).
SAMPLE = [
    "crm-log-call-rescore",
    "content-approve-review",
    "business-can-we-ab-test",
    "integrations-hubspot-sync",
    "campaigns-plan-march-spain",
    "analytics-first-vs-last-touch",
    "analytics-stop-test",
]


@pytest.fixture(scope="module")
def suite() -> Iterator[Suite]:
    built = Suite()
    yield built
    built.close()


@pytest.fixture(scope="module")
async def tools(suite: Suite) -> list[Tool]:
    return await suite.tools()


def test_the_task_set_covers_every_context_with_at_least_40_tasks() -> None:
    assert len(TASKS) >= 40
    assert len({t.id for t in TASKS}) == len(TASKS)
    counts = {context: sum(t.context == context for t in TASKS) for context in CONTEXTS}
    assert all(n >= 5 for n in counts.values()), counts
    assert {t.context for t in TASKS} == set(CONTEXTS)
    assert {t.context for t in select(SAMPLE)} == set(CONTEXTS)


async def test_every_expected_and_setup_tool_exists_in_tools_list(tools: list[Tool]) -> None:
    names = {t.name for t in tools}
    missing = {
        (task.id, step.tool)
        for task in TASKS
        for step in (*task.path, *(s for s in task.setup if hasattr(s, "tool")))
        if step.tool not in names
    }
    assert not missing


def test_references_resolve_into_saved_results() -> None:
    saved = {"a": {"items": [{"id": "x1"}]}, "n": 5}
    assert resolve({"id": "$a.items.0.id", "list": ["$n"], "text": "run {$a.items.0.id}!"}, saved) == {
        "id": "x1",
        "list": [5],
        "text": "run x1!",
    }
    with pytest.raises(IndexError):
        resolve("$a.items.3.id", saved)


async def test_the_scripted_model_passes_the_checks_and_a_wrong_policy_fails_them(suite: Suite) -> None:
    tasks = select(SAMPLE)
    good = await run_tasks(suite, tasks, ScriptedModel)
    failed = [(r.id, r.problems, r.errors) for r in good if not r.success]
    assert not failed
    for result, task in zip(good, tasks, strict=True):
        assert result.calls == list(task.expected_tools)
        assert result.wrong_tool_calls == 0 and result.tool_errors == 0 and result.turns == len(task.path) + 1

    wrong = await run_tasks(suite, tasks, WrongModel)
    assert [r.id for r in wrong if r.success or r.check_passed] == []
    assert all(r.wrong_tool_calls == 1 and r.tool_calls == 1 for r in wrong)


async def test_a_failing_call_is_counted_and_fails_the_task(suite: Suite) -> None:
    class BadArguments(ScriptedModel):
        async def next_turn(self, system: str, messages: Any, tools: Any) -> Turn:
            if not any(m.role == "tool" for m in messages):
                return Turn(text="", tool_calls=(ToolCall(id="c0", name="crm_get_lead", arguments={"lead_id": "x"}),))
            return await super().next_turn(system, [m for m in messages if m.role == "user"], tools)

    (result,) = await run_tasks(suite, select(["crm-explain-scoring"]), BadArguments)
    assert result.tool_errors == 1 and result.errors[0].startswith("crm_get_lead")
    assert result.check_passed and not result.success  # the end state is right, but a call failed on the way


async def test_retrieval_ranks_tools_and_reports_per_context(tools: list[Tool]) -> None:
    report = evaluate(TASKS, specs_of(tools))
    assert set(report.per_context) == set(CONTEXTS)
    pairs = sum(len(dict.fromkeys(t.expected_tools)) for t in TASKS)
    assert report.overall["pairs"] == pairs
    assert 0 <= report.overall["top1"] <= report.overall["top3"] <= 1
    assert report.overall["top3"] >= 0.5  # a working ranker; far above chance (3/87)
    assert len(report.misses) == round(pairs * (1 - report.overall["top3"]))
    print(f"\nretrieval over {pairs} pairs: top-1 {report.overall['top1']:.2f}, top-3 {report.overall['top3']:.2f}")


def test_bm25_prefers_the_document_with_the_rare_query_term() -> None:
    ranker = BM25([tokens("capture a lead"), tokens("list the campaigns"), tokens("plan a campaign for leads")])
    scores = ranker.scores(tokens("plan campaigns"))
    assert scores.index(max(scores)) == 2 and scores[0] == 0.0
    assert tokens("Campaigns_planning") == ["campaign", "plann"]


async def test_lint_counts_every_rule_over_tools_list(tools: list[Tool]) -> None:
    report = lint(tools)
    assert report.tools == len(tools) >= 80
    assert set(report.counts()) == set(RULES)
    assert sum(report.counts().values()) == len(report.findings)
    json.dumps(report.to_json())
    print(f"\nschema lint over {report.tools} tools: {report.counts()}")


def test_lint_flags_a_badly_described_tool() -> None:
    bad = Tool(
        name="x_do",
        description="One. Two. Three. Four.",
        input_schema={
            "type": "object",
            "properties": {
                "status": {"type": "string", "maxLength": 10, "description": "Status."},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "city": {"type": "string", "maxLength": 80, "description": "City name."},
                "limit": {"type": "integer", "description": "Page size."},
            },
        },
    )
    rules = sorted((f.rule, f.param) for f in lint_tool(bad))
    assert rules == [
        ("annotations_missing", None),
        ("closed_set_without_enum", "status"),
        ("description_too_long", None),
        ("free_string_without_example", "city"),
        ("free_string_without_example", "status"),
        ("param_undocumented", "note"),
        ("string_without_max_length", "note"),
    ]
    assert sentences("Plan a campaign (e.g. 300 leads in Spain). Nothing is spent") == 2


CONVERSATION = [
    Message(role="user", text="Capture ana@x.example"),
    Message(
        role="assistant",
        turn=Turn(
            text="Capturing.",
            tool_calls=(ToolCall(id="call_1", name="crm_capture_lead", arguments={"email": "ana@x.example"}),),
        ),
    ),
    Message(
        role="tool",
        results=(ToolResult(call_id="call_1", name="crm_capture_lead", content='{"ok":1}', is_error=False),),
    ),
]
SPECS = [
    ToolSpec("crm_capture_lead", "Record a lead.", {"type": "object", "properties": {"email": {"type": "string"}}})
]


class Recorder:
    """Stands in for an SDK's create(): records the request and returns a recorded response."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.request: dict[str, Any] = {}

    async def __call__(self, **request: Any) -> Any:
        self.request = request
        return self.response


async def test_the_openai_adapter_translates_both_ways() -> None:
    response = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-test",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_2", "type": "function",
                             "function": {"name": "crm_get_lead", "arguments": "{\"lead_id\": \"ld_1\"}"}},
                            {"id": "call_3", "type": "function",
                             "function": {"name": "crm_list_leads", "arguments": "{oops"}},
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        }
    )  # fmt: skip
    create = Recorder(response)
    turn = await OpenAIAdapter(create, "gpt-test").next_turn("Be useful.", CONVERSATION, SPECS)
    sent = create.request
    assert sent["model"] == "gpt-test" and sent["temperature"] == 0.0
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "crm_capture_lead", "description": "Record a lead.",
                                          "parameters": SPECS[0].parameters}}
    ]  # fmt: skip
    assert sent["messages"] == [
        {"role": "system", "content": "Be useful."},
        {"role": "user", "content": "Capture ana@x.example"},
        {"role": "assistant", "content": "Capturing.", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "crm_capture_lead", "arguments": "{\"email\": \"ana@x.example\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"ok\":1}"},
    ]  # fmt: skip
    assert (turn.text, turn.input_tokens, turn.output_tokens) == ("", 120, 30)
    first, second = turn.tool_calls
    assert (first.id, first.name, first.arguments, first.parse_error) == (
        "call_2",
        "crm_get_lead",
        {"lead_id": "ld_1"},
        None,
    )
    assert second.arguments == {} and second.parse_error and "JSON" in second.parse_error


async def test_the_anthropic_adapter_translates_both_ways() -> None:
    response = AnthropicMessage.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "stop_reason": "tool_use",
            "content": [
                {"type": "text", "text": "Looking it up."},
                {"type": "tool_use", "id": "toolu_1", "name": "crm_get_lead", "input": {"lead_id": "ld_1"}},
            ],
            "usage": {"input_tokens": 200, "output_tokens": 40},
        }
    )
    create = Recorder(response)
    turn = await AnthropicAdapter(create, "claude-test", max_tokens=512).next_turn("Be useful.", CONVERSATION, SPECS)
    sent = create.request
    assert (sent["model"], sent["max_tokens"], sent["system"]) == ("claude-test", 512, "Be useful.")
    assert sent["tools"] == [
        {"name": "crm_capture_lead", "description": "Record a lead.", "input_schema": SPECS[0].parameters}
    ]
    assert sent["messages"] == [
        {"role": "user", "content": "Capture ana@x.example"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Capturing."},
            {"type": "tool_use", "id": "call_1", "name": "crm_capture_lead", "input": {"email": "ana@x.example"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"ok\":1}", "is_error": False}]},
    ]  # fmt: skip
    assert (turn.text, turn.input_tokens, turn.output_tokens) == ("Looking it up.", 200, 40)
    assert turn.tool_calls == (ToolCall(id="toolu_1", name="crm_get_lead", arguments={"lead_id": "ld_1"}),)

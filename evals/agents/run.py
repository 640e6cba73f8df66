"""Agent evals CLI: offline figures (retrieval, schema lint, fake-model run) and live runs against a real model.

.venv/bin/python evals/agents/run.py offline [--fake] [--json out.json]
OPENAI_API_KEY=... PROMPTSALES_EVAL_MODEL=gpt-... .venv/bin/python evals/agents/run.py live --provider openai
ANTHROPIC_API_KEY=... PROMPTSALES_EVAL_MODEL=claude-... .venv/bin/python evals/agents/run.py live --provider anthropic
"""

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

if __package__ in (None, ""):  # run as a script: make the repository root importable (evals.agents.*)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import typer
from rich.console import Console

from evals.agents.adapters import AnthropicAdapter, OpenAIAdapter
from evals.agents.lint import lint
from evals.agents.model import ModelAdapter
from evals.agents.report import print_lint, print_results, print_retrieval, summary, write_json
from evals.agents.retrieval import evaluate
from evals.agents.runner import ModelFactory, run_tasks, specs_of
from evals.agents.scripted import ScriptedModel, WrongModel
from evals.agents.spec import Task
from evals.agents.suite import Suite
from evals.agents.tasks import TASKS, select

app = typer.Typer(add_completion=False, help="PromptSales agent evals.")
console = Console()
TaskOpt = Annotated[list[str] | None, typer.Option("--task", "-t", help="Task id (repeatable); default all.")]
ContextOpt = Annotated[list[str] | None, typer.Option("--context", "-c", help="Only this context (repeatable).")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the results here as JSON.")]


@app.command("list")
def list_tasks() -> None:
    """The task set: id, context and expected tool path."""
    for task in TASKS:
        console.print(f"[bold]{task.id}[/bold] ({task.context}): {' → '.join(task.expected_tools)}")
    console.print(f"{len(TASKS)} tasks")


async def _offline(run_fake: bool, tasks: list[Task]) -> dict[str, Any]:
    suite = Suite()
    try:
        tools = await suite.tools()
        retrieval = evaluate(tasks, specs_of(tools))
        print_retrieval(console, retrieval)
        linted = lint(tools)
        print_lint(console, linted)
        payload: dict[str, Any] = {"retrieval": retrieval.to_json(), "lint": linted.to_json()}
        if run_fake:
            results = await run_tasks(suite, tasks, ScriptedModel)
            print_results(console, results, "Fake model (scripted expected paths)")
            payload["fake_run"] = {"summary": summary(results), "tasks": [r.to_json() for r in results]}
        return payload
    finally:
        suite.close()


@app.command()
def offline(
    fake: Annotated[bool, typer.Option(help="Also replay every task's expected path with the scripted model.")] = False,
    task: TaskOpt = None,
    context: ContextOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """No keys needed: retrieval eval and schema lint (figures only, nothing asserted)."""
    payload = asyncio.run(_offline(fake, select(task, context)))
    if json_out:
        write_json(json_out, payload)


async def _run(factory: ModelFactory, tasks: list[Task], max_steps: int, title: str) -> dict[str, Any]:
    suite = Suite()
    try:
        results = await run_tasks(suite, tasks, factory, max_steps=max_steps)
    finally:
        suite.close()
    print_results(console, results, title)
    return {"summary": summary(results), "tasks": [r.to_json() for r in results]}


@app.command()
def fake(
    policy: Annotated[str, typer.Option(help="scripted (replays the expected path) or wrong.")] = "scripted",
    task: TaskOpt = None,
    context: ContextOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Drive the suite with a fake model: proves the loop, MCP plumbing, checks and report offline."""
    factory: ModelFactory = ScriptedModel if policy == "scripted" else WrongModel
    payload = asyncio.run(_run(factory, select(task, context), 20, f"Fake model ({policy})"))
    if json_out:
        write_json(json_out, payload)


def sdk_adapter(provider: str, model: str, base_url: str | None) -> ModelAdapter:
    """An SDK adapter for ``provider`` (keys from OPENAI_API_KEY / ANTHROPIC_API_KEY)."""
    if provider == "openai":
        from openai import AsyncOpenAI

        return OpenAIAdapter(AsyncOpenAI(base_url=base_url).chat.completions.create, model)
    if provider == "anthropic":
        from anthropic import AsyncAnthropic

        return AnthropicAdapter(AsyncAnthropic(base_url=base_url).messages.create, model)
    raise typer.BadParameter(f"unknown provider {provider!r}: openai or anthropic")


@app.command()
def live(
    provider: Annotated[str, typer.Option(help="openai (or any compatible base URL) or anthropic.")] = "openai",
    model: Annotated[str | None, typer.Option(help="Model id; default $PROMPTSALES_EVAL_MODEL.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="API base URL; default $PROMPTSALES_EVAL_BASE_URL or the SDK's.")
    ] = None,
    max_steps: Annotated[int, typer.Option(help="Model turns per task before giving up.")] = 12,
    task: TaskOpt = None,
    context: ContextOpt = None,
    json_out: JsonOpt = Path("evals/agents/results/live.json"),
) -> None:
    """Drive the suite with a real model over MCP and judge every task by its end state."""
    chosen = model or os.environ.get("PROMPTSALES_EVAL_MODEL")
    if not chosen:
        raise typer.BadParameter("set --model or PROMPTSALES_EVAL_MODEL")
    key = "OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY"
    if not os.environ.get(key):
        raise typer.BadParameter(f"{key} is not set")
    adapter = sdk_adapter(provider, chosen, base_url or os.environ.get("PROMPTSALES_EVAL_BASE_URL"))

    def factory(task: Task, saved: Mapping[str, Any]) -> ModelAdapter:
        return adapter

    payload = asyncio.run(_run(factory, select(task, context), max_steps, f"{provider}:{chosen}"))
    payload["model"] = {"provider": provider, "model": chosen}
    if json_out:
        write_json(json_out, payload)
        console.print(f"results written to {json_out}")


if __name__ == "__main__":
    app()

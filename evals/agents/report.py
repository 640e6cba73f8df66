"""Printing the evals' figures with rich and writing them as JSON."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.agents.lint import RULES, LintReport
from evals.agents.retrieval import RetrievalReport
from evals.agents.runner import TaskResult


def print_results(console: Console, results: Sequence[TaskResult], title: str) -> None:
    """Per-task table and a totals line."""
    table = Table(title=title)
    for column in ("task", "context", "ok", "check", "calls", "wrong", "errors", "tok in", "tok out", "s"):
        table.add_column(column, justify="left" if column in ("task", "context") else "right")
    for r in results:
        table.add_row(
            r.id,
            r.context,
            "✔" if r.success else "✘",
            "✔" if r.check_passed else "✘",
            str(r.tool_calls),
            str(r.wrong_tool_calls),
            str(r.tool_errors),
            str(r.input_tokens),
            str(r.output_tokens),
            f"{r.seconds:.1f}",
        )
    console.print(table)
    for r in results:
        if not r.success:
            console.print(f"[red]{r.id}[/red]: {'; '.join(r.problems + r.errors)[:400] or 'step cap reached'}")
    console.print(summary_line(results))


def summary(results: Sequence[TaskResult]) -> dict[str, Any]:
    """Totals over a run, overall and per context."""
    by_context: dict[str, dict[str, int]] = {}
    for r in results:
        entry = by_context.setdefault(r.context, {"tasks": 0, "passed": 0})
        entry["tasks"] += 1
        entry["passed"] += int(r.success)
    return {
        "tasks": len(results),
        "passed": sum(r.success for r in results),
        "checks_passed": sum(r.check_passed for r in results),
        "tool_calls": sum(r.tool_calls for r in results),
        "wrong_tool_calls": sum(r.wrong_tool_calls for r in results),
        "tool_errors": sum(r.tool_errors for r in results),
        "input_tokens": sum(r.input_tokens for r in results),
        "output_tokens": sum(r.output_tokens for r in results),
        "by_context": by_context,
    }


def summary_line(results: Sequence[TaskResult]) -> str:
    """One line of totals."""
    s = summary(results)
    return (
        f"{s['passed']}/{s['tasks']} tasks passed ({s['checks_passed']} checks), {s['tool_calls']} calls, "
        f"{s['wrong_tool_calls']} wrong-tool, {s['tool_errors']} errors, "
        f"tokens {s['input_tokens']}/{s['output_tokens']}"
    )


def print_retrieval(console: Console, report: RetrievalReport, max_misses: int = 40) -> None:
    """Accuracy per context and overall, then the misses."""
    table = Table(title="Retrieval (BM25 over name + description + parameter names)")
    for column in ("context", "pairs", "top-1", "top-3"):
        table.add_column(column, justify="left" if column == "context" else "right")
    for context, acc in [*sorted(report.per_context.items()), ("overall", report.overall)]:
        table.add_row(context, str(int(acc["pairs"])), f"{acc['top1']:.2f}", f"{acc['top3']:.2f}")
    console.print(table)
    console.print(f"misses (expected tool not in top 3): {len(report.misses)}")
    for miss in report.misses[:max_misses]:
        console.print(f"  {miss.task}: {miss.tool} ranked {miss.rank}; top 3 {miss.top3}")


def print_lint(console: Console, report: LintReport, worst: int = 10) -> None:
    """Counts per rule and the worst offenders."""
    table = Table(title=f"Schema lint over tools/list ({report.tools} tools)")
    for column in ("rule", "severity", "findings"):
        table.add_column(column, justify="right" if column == "findings" else "left")
    for rule, count in report.counts().items():
        table.add_row(rule, RULES[rule], str(count))
    console.print(table)
    console.print("worst offenders: " + ", ".join(f"{tool} ({n})" for tool, n in report.worst(worst)))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")

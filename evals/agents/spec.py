"""What a task is made of: setup steps, the expected tool path (with scripted arguments) and an end-state check."""

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastmcp import Client

from evals.agents.suite import Suite, call

_REF = re.compile(r"^\$([A-Za-z_][\w-]*(?:\.[\w-]+)*)$")
_INLINE = re.compile(r"\{\$([A-Za-z_][\w-]*(?:\.[\w-]+)*)\}")


class CheckFailed(Exception):
    """A task's end state is not what the request asked for."""


class SetupFailed(Exception):
    """A fixture step failed: the task cannot be judged (a suite or task-definition bug, not the model's)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One tool call: its name, arguments ("$name.path" and "{$name.path}" read saved results) and where to save it."""

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    save: str | None = None
    actor: str | None = None  # setup only: call as another person (a reviewer approving what the agent wrote)


Hook = Callable[[Suite, Client[Any], dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call the agent made, as the runner saw it."""

    name: str
    arguments: dict[str, Any]
    is_error: bool
    data: dict[str, Any] | None
    text: str


@dataclass
class CheckContext:
    """What a check sees: a client on the task's database, the saved fixtures and the agent's calls."""

    client: Client[Any]
    saved: dict[str, Any]
    calls: list[CallRecord]

    async def read(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a (read) tool for the check; a failure fails the check."""
        outcome = await call(self.client, tool, arguments)
        if outcome.is_error or outcome.data is None:
            raise CheckFailed(f"check read {tool} failed: {outcome.text[:300]}")
        return outcome.data

    def ok_calls(self, tool: str) -> list[CallRecord]:
        """The agent's successful calls of ``tool``, in order."""
        return [c for c in self.calls if c.name == tool and not c.is_error]

    def last_ok(self, tool: str) -> CallRecord:
        """The agent's last successful call of ``tool``; the check fails when there is none."""
        found = self.ok_calls(tool)
        if not found:
            raise CheckFailed(f"the agent never called {tool} successfully")
        return found[-1]


Check = Callable[[CheckContext], Awaitable[None]]


def need(condition: object, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True, slots=True)
class Task:
    """One realistic request, its fixtures, the path a competent agent takes and the machine check of the result."""

    id: str
    context: str
    request: str
    path: tuple[Step, ...]
    check: Check
    setup: tuple[Step | Hook, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def expected_tools(self) -> tuple[str, ...]:
        """The tools of the expected path, in order."""
        return tuple(step.tool for step in self.path)


def dates(now: datetime) -> dict[str, str]:
    """Dates tasks refer to: today, last week (Mon-Sun), the coming March, and moments 1-3 days ago."""
    today = now.astimezone(UTC).date()
    year = today.year + 1 if today.month >= 3 else today.year
    monday = today - timedelta(days=today.weekday())
    return {
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "in_29_days": (today + timedelta(days=29)).isoformat(),
        "last_week_start": (monday - timedelta(days=7)).isoformat(),
        "last_week_end": (monday - timedelta(days=1)).isoformat(),
        "march_start": date(year, 3, 1).isoformat(),
        "march_end": date(year, 3, 31).isoformat(),
        **{f"ago_{n}d": _iso(now - timedelta(days=n)) for n in (1, 2, 3)},
    }


def _iso(moment: datetime) -> str:
    """ISO-8601 with a Z, as a client sends it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def lookup(path: str, saved: Mapping[str, Any]) -> Any:
    """The value at a dotted path (dict keys, list indices) of the saved results."""
    value: Any = saved
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, Mapping):
            value = value[part]
        else:
            raise KeyError(f"{path}: cannot read {part!r} of {type(value).__name__}")
    return value


def resolve(value: Any, saved: Mapping[str, Any]) -> Any:
    """``value`` with every "$name.path" reference replaced by the saved value and "{$name.path}" formatted in."""
    if isinstance(value, str):
        whole = _REF.match(value)
        if whole:
            return lookup(whole.group(1), saved)
        return _INLINE.sub(lambda m: str(lookup(m.group(1), saved)), value)
    if isinstance(value, Mapping):
        return {key: resolve(item, saved) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, saved) for item in value]
    return value

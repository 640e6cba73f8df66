"""Flow definitions: the data shape of chat/voice attention flows, validated as a step graph.

A flow is a graph of steps keyed by id. `ask` steps wait for the user; `handoff` and `end` finish the
run; every other step runs instantly. Validation guarantees that the engine in `flows.py` never jumps
to a missing step and never spins without waiting for input, so a definition that loads is runnable.
Validation errors name the step and the field at fault.
"""

import math
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Scalar: TypeAlias = bool | int | float | str
AnswerKind = Literal["text", "number", "yes_no", "email", "phone", "choice"]

StepId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
# Identifier-shaped so every captured field can also be used as a `{field}` template placeholder.
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ChoiceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]

# Punctuation people wrap around short replies ("Yes!", "2)", "'urgent'") that carries no meaning.
_REPLY_PUNCTUATION = " .,!?;:()[]\"'"


def normalize_reply(text: str) -> str:
    """Fold a short reply for matching: case-folded, single-spaced, surrounding punctuation removed."""
    return " ".join(text.casefold().split()).strip(_REPLY_PUNCTUATION)


class _Frozen(BaseModel):
    """Base for definition models: immutable and strict about unknown keys (typos fail loudly)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Bounds(_Frozen):
    """A numeric interval: each side closed (at_least / at_most), open (above / below) or unbounded."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return not (
            (self.at_least is not None and value < self.at_least)
            or (self.above is not None and value <= self.above)
            or (self.at_most is not None and value > self.at_most)
            or (self.below is not None and value >= self.below)
        )

    def lower(self) -> float:
        """The lower end (minus infinity when unbounded)."""
        ends = [end for end in (self.at_least, self.above) if end is not None]
        return max(ends) if ends else -math.inf

    def upper(self) -> float:
        """The upper end (infinity when unbounded)."""
        ends = [end for end in (self.at_most, self.below) if end is not None]
        return min(ends) if ends else math.inf


class ChoiceMeaning(_Frozen):
    """What an option means, so a free-text reply ("about 50k USD", "decide mi jefe") can select it."""

    # Money the reply states falls within (a budget question).
    amount: Bounds | None = None
    # Days within which the reply wants it done, e.g. {"at_most": 31} (a timeline question).
    within_days: Bounds | None = None
    urgency: Literal["high", "medium", "low"] | None = None
    role: Literal["decider", "influencer", "other"] | None = None
    # A plain yes or no to the question selects this option.
    answer: Literal["yes", "no"] | None = None
    # "Not sure", "no idea", "no budget yet" select this option.
    unsure: bool = False


class Choice(_Frozen):
    """One option of a choice question; matched on id, label, synonyms, its 1-based position or its meaning."""

    id: ChoiceId
    label: Label
    synonyms: tuple[Label, ...] = ()
    means: ChoiceMeaning | None = None

    def match_keys(self) -> frozenset[str]:
        """The normalized replies that select this option (positions are matched by the engine)."""
        raw = (self.id, self.id.replace("_", " "), self.label, *self.synonyms)
        return frozenset(normalize_reply(key) for key in raw)


class SayStep(_Frozen):
    """Send a message and continue."""

    type: Literal["say"]
    text: Text
    next: StepId


class AskStep(_Frozen):
    """Ask a question and wait; a valid answer is captured into `field`."""

    type: Literal["ask"]
    text: Text
    field: FieldName
    expect: AnswerKind = "text"
    choices: tuple[Choice, ...] = ()
    reask_text: Text | None = None
    # Re-asks allowed before giving up: with 2, the third invalid answer leaves via on_invalid/handoff.
    max_reasks: int = Field(default=2, ge=0, le=10)
    on_invalid: StepId | None = None
    next: StepId

    @model_validator(mode="after")
    def _check_choices(self) -> "AskStep":
        """Choice questions need unambiguous options; other questions must not carry options."""
        if self.expect != "choice":
            if self.choices:
                raise ValueError(f"choices: only allowed when expect is 'choice', not '{self.expect}'")
            return self
        if not self.choices:
            raise ValueError("choices: a 'choice' question needs at least one option")
        owner: dict[str, str] = {}
        for choice in self.choices:
            if choice.id in owner.values():
                raise ValueError(f"choices: option id '{choice.id}' is repeated")
            for key in sorted(choice.match_keys()):
                if key.isdigit():
                    # A numeric key would shadow "reply with the option's number".
                    raise ValueError(f"choices: option '{choice.id}' key '{key}' is a bare number")
                if owner.setdefault(key, choice.id) != choice.id:
                    raise ValueError(f"choices: '{key}' matches both option '{owner[key]}' and option '{choice.id}'")
        return self


class BranchStep(_Frozen):
    """Jump on the value of a captured answer (or context key); yes/no answers branch as "yes"/"no"."""

    type: Literal["branch"]
    field: FieldName
    cases: dict[Label, StepId] = Field(default_factory=dict)
    # Taken when the field is neither answered nor present (non-blank) in the context; else `default`.
    on_missing: StepId | None = None
    default: StepId

    @model_validator(mode="after")
    def _check_cases(self) -> "BranchStep":
        """Case values compare case-insensitively, so two spellings of one value would be ambiguous."""
        seen: set[str] = set()
        for value in self.cases:
            key = value.casefold()
            if key in seen:
                raise ValueError(f"cases: value '{value}' appears twice (values are case-insensitive)")
            seen.add(key)
        return self


class SetFieldStep(_Frozen):
    """Record a fixed value on the contact/lead and in the run's answers."""

    type: Literal["set_field"]
    field: FieldName
    value: Scalar
    next: StepId


class AddTagStep(_Frozen):
    """Tag the contact."""

    type: Literal["add_tag"]
    tag: Label
    next: StepId


class AdjustScoreStep(_Frozen):
    """Raise or lower the lead score."""

    type: Literal["adjust_score"]
    points: int = Field(ge=-1000, le=1000)
    reason: Text
    next: StepId


class HandoffStep(_Frozen):
    """Hand the conversation to a human queue; ends the run as `handed_off`."""

    type: Literal["handoff"]
    text: Text
    queue: Slug
    reason: Text


class EndStep(_Frozen):
    """Say goodbye; ends the run as `completed`."""

    type: Literal["end"]
    text: Text


Step = Annotated[
    SayStep | AskStep | BranchStep | SetFieldStep | AddTagStep | AdjustScoreStep | HandoffStep | EndStep,
    Field(discriminator="type"),
]
TerminalStep = HandoffStep | EndStep
# Steps that neither wait for the user nor end the run; a loop made only of these would never stop.
InstantStep = SayStep | BranchStep | SetFieldStep | AddTagStep | AdjustScoreStep


def step_targets(step: Step) -> tuple[tuple[str, str], ...]:
    """The (field, target step id) pairs a step can jump to, in a stable order."""
    match step:
        case AskStep():
            pairs = [("next", step.next)]
            if step.on_invalid is not None:
                pairs.append(("on_invalid", step.on_invalid))
            return tuple(pairs)
        case BranchStep():
            pairs = [(f"cases[{value!r}]", target) for value, target in step.cases.items()]
            if step.on_missing is not None:
                pairs.append(("on_missing", step.on_missing))
            pairs.append(("default", step.default))
            return tuple(pairs)
        case HandoffStep() | EndStep():
            return ()
        case _:
            return (("next", step.next),)


class FlowDefinition(_Frozen):
    """A named, versioned attention flow: a graph of steps entered at `start`."""

    id: Slug
    name: Label
    description: str = ""
    version: int = Field(default=1, ge=1)
    start: StepId
    steps: dict[StepId, Step] = Field(min_length=1, max_length=500)
    # Used when an ask runs out of re-asks and names no `on_invalid` step.
    fallback_queue: Slug = "sales"
    fallback_text: Text = "I'm having trouble understanding, so I'll connect you with someone from our team."

    @model_validator(mode="after")
    def _check_graph(self) -> "FlowDefinition":
        """Every target exists, a terminal is reachable, and no loop runs without asking."""
        problems: list[str] = []
        if self.start not in self.steps:
            problems.append(f"start: step '{self.start}' does not exist")
        for step_id, step in self.steps.items():
            for field, target in step_targets(step):
                if target not in self.steps:
                    problems.append(f"step '{step_id}' field {field}: target step '{target}' does not exist")
        if problems:
            raise ValueError("; ".join(problems))
        reachable = self._reachable()
        if not any(isinstance(self.steps[step_id], TerminalStep) for step_id in reachable):
            raise ValueError(f"start: no handoff or end step is reachable from step '{self.start}'")
        cycle = self._instant_cycle()
        if cycle:
            raise ValueError(
                f"step '{cycle[0]}': steps {' -> '.join(cycle)} loop without an ask step, "
                "so the run would never wait for input"
            )
        return self

    def _reachable(self) -> set[str]:
        """Step ids reachable from start."""
        seen = {self.start}
        pending = [self.start]
        while pending:
            for _, target in step_targets(self.steps[pending.pop()]):
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        return seen

    def _instant_cycle(self) -> list[str]:
        """A loop through instant steps only, as a closed path of ids; empty when there is none."""

        def instant_targets(step_id: str) -> list[str]:
            """Instant steps that `step_id` jumps to."""
            return [t for _, t in step_targets(self.steps[step_id]) if isinstance(self.steps[t], InstantStep)]

        done: set[str] = set()
        for root, root_step in self.steps.items():
            if root in done or not isinstance(root_step, InstantStep):
                continue
            # Iterative DFS: a huge generated flow must not hit Python's recursion limit.
            stack = [(root, iter(instant_targets(root)))]
            on_path = {root}
            while stack:
                node, targets = stack[-1]
                target = next(targets, None)
                if target is None:
                    stack.pop()
                    on_path.discard(node)
                    done.add(node)
                elif target in on_path:
                    path = [step_id for step_id, _ in stack]
                    return [*path[path.index(target) :], target]
                elif target not in done:
                    on_path.add(target)
                    stack.append((target, iter(instant_targets(target))))
        return []

"""Automated attention flows for chatbots and voicebots: a pure, turn-by-turn state machine.

Flows are data (see `flow_definitions.py` and `default_flows/*.json`). `start_flow` and `advance_flow`
take a definition plus the persisted `FlowState` and return a `FlowTurn`: the bot messages to show or
speak, the new state, and the effects (field updates, tags, score changes, handoffs) the CRM service
must apply. Nothing here does I/O, reads the clock or draws randomness (except `load_default_flows`,
which reads the packaged JSON), so the same inputs always give the same turn.

Lookups for templates and branches read the run's answers first, then the context the service passes
in (contact fields such as `first_name` or `email`). A branch's `on_missing` target is taken when the
field is in neither, which is how a flow asks for data only when the CRM lacks it.

The state carries no channel: one run can be driven by a chat widget and a voicebot in turn.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.resources import files
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from promptsales.domain_core.crm.model.flow_definitions import (
    AddTagStep,
    AdjustScoreStep,
    AnswerKind,
    AskStep,
    BranchStep,
    Choice,
    EndStep,
    FlowDefinition,
    HandoffStep,
    SayStep,
    Scalar,
    SetFieldStep,
    Step,
    normalize_reply,
)
from promptsales.domain_core.crm.model.reply_interpreter import interpret_reply
from promptsales.domain_core.crm.model.vocabulary import FlowChannel

__all__ = [
    "MAX_STEPS_PER_TURN",
    "AnswerKind",
    "AwaitingInput",
    "Choice",
    "ChoiceOption",
    "Effect",
    "FlowDefinition",
    "FlowError",
    "FlowState",
    "FlowTurn",
    "Scalar",
    "Step",
    "Suggestion",
    "advance_flow",
    "load_default_flows",
    "match_choice",
    "parse_answer",
    "parse_number",
    "parse_yes_no",
    "pending_question",
    "render_template",
    "start_flow",
    "understand",
]

# Validation already rejects loops without an ask; this cap only stops pathological definitions.
MAX_STEPS_PER_TURN = 100

RunStatus = Literal["active", "completed", "handed_off"]
EffectKind = Literal["set_field", "add_tag", "adjust_score", "handoff"]


class FlowError(ValueError):
    """A run cannot be started or advanced as asked; `field` names the offending input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class _Frozen(BaseModel):
    """Base for engine models: immutable and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowState(_Frozen):
    """The JSON-serializable state of one run, persisted by the service between turns."""

    flow_id: str
    flow_version: int
    current_step: str | None
    status: RunStatus = "active"
    answers: dict[str, Scalar] = Field(default_factory=dict)
    reasks: int = Field(default=0, ge=0)
    visited: int = Field(default=0, ge=0)


class Effect(_Frozen):
    """A change the service must apply to the contact/lead."""

    kind: EffectKind
    field: str | None = None
    value: Scalar | None = None
    tag: str | None = None
    points: int | None = None
    reason: str | None = None
    queue: str | None = None


class ChoiceOption(_Frozen):
    """An option a UI can render as a button."""

    id: str
    label: str


class AwaitingInput(_Frozen):
    """What the bot is waiting for, so front ends can render buttons or input hints."""

    field: str
    expect: AnswerKind
    choices: tuple[ChoiceOption, ...] = ()


class FlowTurn(_Frozen):
    """The outcome of one turn: messages in order, the new state, captures and effects."""

    messages: tuple[str, ...]
    state: FlowState
    captured: dict[str, Scalar]
    effects: tuple[Effect, ...]
    done: bool
    awaiting: AwaitingInput | None


# ---------------------------------------------------------------- templates and rendering

# The optional leading space is swallowed when the value is empty, so "Hi {first_name}!" reads "Hi!".
_PLACEHOLDER = re.compile(r"( ?)\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _display(value: Scalar) -> str:
    """A value as it reads in a message."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_template(template: str, values: Mapping[str, Scalar]) -> str:
    """Replace `{name}` placeholders in one pass; missing names render empty, values are never re-parsed."""

    def substitute(match: re.Match[str]) -> str:
        """Render one placeholder."""
        value = values.get(match.group(2))
        text = "" if value is None else _display(value)
        return match.group(1) + text if text else ""

    # A single re.sub pass (not str.format) means braces inside user answers stay literal text.
    return _PLACEHOLDER.sub(substitute, template).strip()


def _options_line(choices: tuple[Choice, ...], channel: FlowChannel) -> str:
    """The options as chat shows them ("1) A  2) B") or as a voicebot says them."""
    labels = [choice.label for choice in choices]
    if channel == "chat":
        return "  ".join(f"{number}) {label}" for number, label in enumerate(labels, start=1))
    if len(labels) == 1:
        spoken = labels[0]
    elif len(labels) == 2:
        spoken = f"{labels[0]} or {labels[1]}"
    else:
        spoken = f"{', '.join(labels[:-1])}, or {labels[-1]}"
    return f"You can say: {spoken}."


def _with_options(text: str, step: AskStep, channel: FlowChannel) -> str:
    """Append the option list to a question or re-ask when the step offers choices."""
    if step.expect != "choice":
        return text
    separator = "\n" if channel == "chat" else " "
    return f"{text}{separator}{_options_line(step.choices, channel)}"


_DEFAULT_REASK: dict[AnswerKind, str] = {
    "text": "Sorry, I didn't catch that. Could you answer in a few words?",
    "number": "Sorry, I need a number there, for example 5000 or 5k.",
    "yes_no": "Sorry, could you answer yes or no?",
    "email": "That doesn't look like an email address. Could you check it? For example: name@company.com",
    "phone": "Please share a phone number with 7 to 15 digits, for example +1 555 123 4567.",
    "choice": "Sorry, I didn't get that. Please reply with the number or name of an option.",
}
# Voice cannot show a format or a numbered list, so its defaults describe what to say instead.
_DEFAULT_VOICE_REASK: dict[AnswerKind, str] = {
    **_DEFAULT_REASK,
    "email": "Sorry, I missed that email address. Could you say it again, like name at company dot com?",
    "choice": "Sorry, I didn't get that.",
}


def _reask_message(step: AskStep, channel: FlowChannel, values: Mapping[str, Scalar]) -> str:
    """The message sent after an invalid answer."""
    if step.reask_text is not None:
        base = render_template(step.reask_text, values)
    else:
        base = (_DEFAULT_REASK if channel == "chat" else _DEFAULT_VOICE_REASK)[step.expect]
    return _with_options(base, step, channel)


def _awaiting(step: AskStep) -> AwaitingInput:
    """Describe an ask for front ends."""
    options = tuple(ChoiceOption(id=choice.id, label=choice.label) for choice in step.choices)
    return AwaitingInput(field=step.field, expect=step.expect, choices=options)


# ---------------------------------------------------------------- answer parsing

# Digits with optional comma thousands groups, an optional decimal part, k/m suffix, currency sign.
_NUMBER = re.compile(
    r"(?P<sign>[-+]?)[$€£]?\s*(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?\s*(?P<suffix>[km])?\s*[$€£]?",
    re.IGNORECASE | re.ASCII,
)
_MULTIPLIER = {"": 1, "k": 1_000, "m": 1_000_000}
_YES = frozenset({"yes", "y", "si", "sí", "true", "yeah", "yep", "sure"})
_NO = frozenset({"no", "n", "false", "nope", "nah"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()-]+")


def parse_number(text: str) -> int | float | None:
    """Parse "5000", "5,000", "5k", "1.5m", "$5,000"; None when it is not a plain number."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    frac = match["frac"] or ""
    suffix = (match["suffix"] or "").lower()
    if len(frac) == 4 and not suffix:
        # "5.000" is five thousand in much of Europe and five elsewhere: re-ask rather than guess.
        return None
    value = Decimal(match["whole"].replace(",", "") + frac) * _MULTIPLIER[suffix]
    if match["sign"] == "-":
        value = -value
    return int(value) if value == value.to_integral_value() else float(value)


def parse_yes_no(text: str) -> bool | None:
    """Parse yes/no replies (English and Spanish); None when it is neither."""
    key = normalize_reply(text)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def match_choice(choices: tuple[Choice, ...], text: str) -> str | None:
    """The id of the option the reply names (id, label, synonym or 1-based number), case-insensitively."""
    key = normalize_reply(text)
    if key.isascii() and key.isdigit():
        position = int(key)
        return choices[position - 1].id if 1 <= position <= len(choices) else None
    for choice in choices:
        if key in choice.match_keys():
            return choice.id
    return None


def parse_answer(step: AskStep, text: str) -> Scalar | None:
    """Validate a reply against the ask's expectation; the parsed value, or None when invalid."""
    reply = text.strip()
    if not reply:
        return None
    match step.expect:
        case "text":
            return reply
        case "number":
            return parse_number(reply)
        case "yes_no":
            return parse_yes_no(reply)
        case "email":
            return reply if _EMAIL.fullmatch(reply) else None
        case "phone":
            digits = sum(ch.isdigit() for ch in reply)
            return reply if _PHONE.fullmatch(reply) and 7 <= digits <= 15 else None
        case "choice":
            return match_choice(step.choices, reply)


def understand(step: AskStep, text: str) -> Scalar | None:
    """What a reply answers to ``step``: read exactly, else interpreted with confidence; None otherwise."""
    exact = parse_answer(step, text)
    if exact is not None:
        return exact
    reading = interpret_reply(step, text) if text.strip() else None
    return reading.value if reading is not None and reading.confident else None


class Suggestion(_Frozen):
    """An answer to the question at ``step_id`` read by someone else (the content context's extraction)."""

    step_id: str
    value: Scalar


def _valid_suggestion(step: AskStep, value: Scalar) -> Scalar | None:
    """The suggested value when it is a possible answer to the step; None otherwise (never trusted blindly)."""
    match step.expect:
        case "choice":
            return value if isinstance(value, str) and value in {c.id for c in step.choices} else None
        case "yes_no":
            return value if isinstance(value, bool) else None
        case "number":
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None
        case _:
            return None


def pending_question(definition: FlowDefinition, state: FlowState) -> AskStep | None:
    """The question a run is waiting on (None when finished or not at a question)."""
    step = definition.steps.get(state.current_step or "")
    return step if state.status == "active" and isinstance(step, AskStep) else None


# ---------------------------------------------------------------- the engine


@dataclass
class _Run:
    """Mutable scratchpad for one turn; turned into an immutable FlowTurn at the end."""

    definition: FlowDefinition
    channel: FlowChannel
    context: Mapping[str, str]
    answers: dict[str, Scalar]
    visited: int
    messages: list[str] = field(default_factory=list)
    captured: dict[str, Scalar] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)

    def values(self) -> dict[str, Scalar]:
        """Template/branch values: answers override the context."""
        return {**self.context, **self.answers}

    def capture(self, name: str, value: Scalar) -> None:
        """Record a value in the answers and tell the service to store it."""
        self.answers[name] = value
        self.captured[name] = value
        self.effects.append(Effect(kind="set_field", field=name, value=value))

    def turn(self, step_id: str, status: RunStatus, reasks: int, awaiting: AwaitingInput | None) -> FlowTurn:
        """Freeze the scratchpad into the turn's result."""
        state = FlowState(
            flow_id=self.definition.id,
            flow_version=self.definition.version,
            current_step=step_id,
            status=status,
            answers=dict(self.answers),
            reasks=reasks,
            visited=self.visited,
        )
        return FlowTurn(
            messages=tuple(self.messages),
            state=state,
            captured=dict(self.captured),
            effects=tuple(self.effects),
            done=status != "active",
            awaiting=awaiting,
        )


def _branch_target(step: BranchStep, values: Mapping[str, Scalar]) -> str:
    """Where a branch goes for the current answers/context."""
    value = values.get(step.field)
    key = "" if value is None else _display(value).strip()
    if not key:
        return step.on_missing if step.on_missing is not None else step.default
    for case, target in step.cases.items():
        if case.casefold() == key.casefold():
            return target
    return step.default


def _run_from(run: _Run, step_id: str) -> FlowTurn:
    """Execute steps from `step_id` until an ask waits for input or a terminal step ends the run."""
    for _ in range(MAX_STEPS_PER_TURN):
        step = run.definition.steps[step_id]
        run.visited += 1
        match step:
            case AskStep():
                run.messages.append(_with_options(render_template(step.text, run.values()), step, run.channel))
                return run.turn(step_id, "active", 0, _awaiting(step))
            case HandoffStep():
                run.messages.append(render_template(step.text, run.values()))
                run.effects.append(Effect(kind="handoff", queue=step.queue, reason=step.reason))
                return run.turn(step_id, "handed_off", 0, None)
            case EndStep():
                run.messages.append(render_template(step.text, run.values()))
                return run.turn(step_id, "completed", 0, None)
            case SayStep():
                run.messages.append(render_template(step.text, run.values()))
                step_id = step.next
            case BranchStep():
                step_id = _branch_target(step, run.values())
            case SetFieldStep():
                run.capture(step.field, step.value)
                step_id = step.next
            case AddTagStep():
                run.effects.append(Effect(kind="add_tag", tag=step.tag))
                step_id = step.next
            case AdjustScoreStep():
                run.effects.append(Effect(kind="adjust_score", points=step.points, reason=step.reason))
                step_id = step.next
    raise FlowError(
        f"flow '{run.definition.id}' ran more than {MAX_STEPS_PER_TURN} steps in one turn without waiting for input",
        field="steps",
    )


def _check_channel(channel: str) -> None:
    """Reject channels the renderer does not know (callers may bypass the type checker)."""
    if channel not in get_args(FlowChannel):
        raise FlowError(f"unknown channel '{channel}'", field="channel")


def start_flow(definition: FlowDefinition, *, channel: FlowChannel, context: Mapping[str, str]) -> FlowTurn:
    """Start a run: execute steps up to the first question or the end."""
    _check_channel(channel)
    run = _Run(definition=definition, channel=channel, context=context, answers={}, visited=0)
    return _run_from(run, definition.start)


def advance_flow(
    definition: FlowDefinition,
    state: FlowState,
    user_input: str,
    *,
    channel: FlowChannel,
    context: Mapping[str, str],
    suggestion: Suggestion | None = None,
) -> FlowTurn:
    """Answer the pending question: capture what the reply means and run on, else re-ask.

    The reply is read exactly (an option's number, label or synonym), then interpreted (free text); when
    neither is confident, ``suggestion`` — what a model or extractor read for this same question — is
    used if it is a valid answer.
    """
    _check_channel(channel)
    if state.status != "active":
        raise FlowError(f"run is {state.status}; start a new run", field="status")
    if state.flow_id != definition.id:
        raise FlowError(f"state belongs to flow '{state.flow_id}', not '{definition.id}'", field="flow_id")
    if state.flow_version != definition.version:
        # Step ids may mean different things across versions, so a run never jumps versions.
        raise FlowError(
            f"state is for version {state.flow_version}, definition is version {definition.version}",
            field="flow_version",
        )
    step_id = state.current_step or ""
    step = definition.steps.get(step_id)
    if not isinstance(step, AskStep):
        raise FlowError(f"step '{state.current_step}' is not a question awaiting input", field="current_step")

    run = _Run(
        definition=definition,
        channel=channel,
        context=context,
        answers=dict(state.answers),
        visited=state.visited,
    )
    value = understand(step, user_input)
    if value is None and suggestion is not None and suggestion.step_id == step_id:
        value = _valid_suggestion(step, suggestion.value)
    if value is not None:
        run.capture(step.field, value)
        return _run_from(run, step.next)
    if state.reasks < step.max_reasks:
        run.messages.append(_reask_message(step, channel, run.values()))
        return run.turn(step_id, "active", state.reasks + 1, _awaiting(step))
    if step.on_invalid is not None:
        return _run_from(run, step.on_invalid)
    run.messages.append(render_template(definition.fallback_text, run.values()))
    attempts = step.max_reasks + 1
    reason = f"no valid answer for '{step.field}' after {attempts} attempts"
    run.effects.append(Effect(kind="handoff", queue=definition.fallback_queue, reason=reason))
    # current_step stays on the question, recording where the run gave up.
    return run.turn(step_id, "handed_off", 0, None)


def load_default_flows() -> dict[str, FlowDefinition]:
    """The packaged default flows (default_flows/*.json), keyed by flow id."""
    folder = files("promptsales.domain_core.crm.model").joinpath("default_flows")
    flows: dict[str, FlowDefinition] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        definition = FlowDefinition.model_validate_json(entry.read_text(encoding="utf-8"))
        if definition.id in flows:
            raise FlowError(f"flow id '{definition.id}' is defined twice", field="id")
        flows[definition.id] = definition
    return flows

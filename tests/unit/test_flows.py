"""Unit tests for the chat/voice attention flow engine and the default BANT flow."""

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from promptsales.domain_core.crm.model.flows import (
    MAX_STEPS_PER_TURN,
    Effect,
    FlowDefinition,
    FlowError,
    FlowState,
    FlowTurn,
    Scalar,
    advance_flow,
    load_default_flows,
    match_choice,
    parse_number,
    parse_yes_no,
    render_template,
    start_flow,
)
from promptsales.domain_core.crm.model.vocabulary import FlowChannel

CONTEXT = {"first_name": "Ana", "email": "ana@acme.test"}


@pytest.fixture(scope="module")
def bant() -> FlowDefinition:
    """The packaged BANT flow."""
    return load_default_flows()["bant-qualification"]


def play(
    definition: FlowDefinition,
    answers: list[str],
    *,
    channel: FlowChannel = "chat",
    context: Mapping[str, str] = CONTEXT,
) -> list[FlowTurn]:
    """Start a run and feed it answers; every turn, starting with the first."""
    turns = [start_flow(definition, channel=channel, context=context)]
    for answer in answers:
        turns.append(advance_flow(definition, turns[-1].state, answer, channel=channel, context=context))
    return turns


def flow(steps: Mapping[str, Any], start: str = "q", **extra: Any) -> FlowDefinition:
    """Build a small test flow."""
    return FlowDefinition.model_validate({"id": "test-flow", "name": "Test", "start": start, "steps": steps, **extra})


COLOR_ASK: dict[str, Any] = {
    "type": "ask",
    "text": "Favourite color?",
    "field": "color",
    "expect": "choice",
    "choices": [
        {"id": "red", "label": "Red", "synonyms": ["crimson"]},
        {"id": "blue", "label": "Sky blue", "synonyms": ["azure", "navy"]},
        {"id": "green", "label": "Green"},
    ],
    "next": "bye",
}
BYE: dict[str, Any] = {"type": "end", "text": "Bye {first_name}, you chose {color}."}


# ---------------------------------------------------------------- the BANT flow


def test_bant_happy_path_hands_off_to_sales(bant: FlowDefinition) -> None:
    turns = play(bant, ["urgent", "over 50k", "I decide", "this month"])
    first = turns[0]
    assert first.messages == (
        "Hi Ana! Thanks for reaching out. Four quick questions and I'll point you to the right help.",
        "How pressing is the problem you want to solve?\n1) Urgent  2) Important but not urgent  3) Just exploring",
    )
    assert first.awaiting is not None and first.awaiting.field == "need"
    assert [option.id for option in first.awaiting.choices] == ["urgent", "important", "exploring"]
    assert [turn.state.current_step for turn in turns[:-1]] == [
        "ask_need",
        "ask_budget",
        "ask_authority",
        "ask_timeline",
    ]

    last = turns[-1]
    assert last.done and last.awaiting is None
    assert last.state.status == "handed_off"
    assert last.state.current_step == "handoff_sales"
    assert last.messages == (
        "Thanks Ana! This sounds like a great fit, so I'm connecting you with one of our sales specialists now.",
    )
    assert last.captured == {"timeline": "this_month"}
    assert last.effects == (
        Effect(kind="set_field", field="timeline", value="this_month"),
        Effect(kind="adjust_score", points=15, reason=bant.steps["score_qualified"].reason),  # type: ignore[union-attr]
        Effect(kind="add_tag", tag="bant-qualified"),
        Effect(kind="handoff", queue="sales", reason="BANT qualified lead ready for a sales conversation"),
    )
    assert last.state.answers == {
        "need": "urgent",
        "budget": "over_50k",
        "authority": "decision_maker",
        "timeline": "this_month",
    }
    # Every ask's answer is also emitted as a set_field effect on its own turn.
    assert turns[2].effects == (Effect(kind="set_field", field="budget", value="over_50k"),)


def test_bant_nurture_path_for_explorers(bant: FlowDefinition) -> None:
    last = play(bant, ["3", "not sure", "someone else", "no rush"])[-1]
    assert last.state.status == "completed" and last.done
    assert last.state.current_step == "end_nurture"
    assert [effect.kind for effect in last.effects] == ["set_field", "add_tag"]
    assert last.effects[1].tag == "nurture"
    assert "useful guides" in last.messages[0]


def test_bant_no_budget_decision_maker_is_nurtured(bant: FlowDefinition) -> None:
    last = play(bant, ["urgent", "no budget", "me", "this year"])[-1]
    assert last.state.current_step == "end_nurture"
    assert Effect(kind="add_tag", tag="nurture") in last.effects


def test_bant_other_leads_get_points_and_follow_up(bant: FlowDefinition) -> None:
    last = play(bant, ["important", "1 to 10 thousand", "I help decide", "this quarter"])[-1]
    assert last.state.status == "completed"
    assert last.state.current_step == "end_followup"
    assert Effect(kind="adjust_score", points=5, reason="Completed BANT qualification") in last.effects
    assert not any(effect.kind == "add_tag" for effect in last.effects)


def test_bant_asks_for_email_only_when_context_lacks_it(bant: FlowDefinition) -> None:
    context = {"first_name": "Ana"}
    turns = play(bant, ["urgent", "10k-50k", "i do", "this month"], context=context)
    assert turns[-1].messages == ("What's the best work email to reach you?",)
    assert turns[-1].awaiting is not None and turns[-1].awaiting.expect == "email"

    last = advance_flow(bant, turns[-1].state, " ana@acme.test ", channel="chat", context=context)
    assert last.captured == {"email": "ana@acme.test"}
    assert last.effects[0] == Effect(kind="set_field", field="email", value="ana@acme.test")
    assert last.state.status == "handed_off"

    # A blank context value counts as missing too.
    assert play(bant, ["2", "2", "2", "2"], context={"email": "  "})[-1].state.current_step == "ask_email"


def test_bant_email_refusal_moves_on_without_handoff(bant: FlowDefinition) -> None:
    turns = play(bant, ["exploring", "5", "3", "4", "nope", "still no"], context={})
    assert turns[-2].state.reasks == 1
    last = turns[-1]
    assert last.messages[0] == "No problem, we'll use the details we already have."
    assert last.state.current_step == "end_nurture"
    assert "email" not in last.state.answers


def test_bant_greeting_without_first_name_reads_cleanly(bant: FlowDefinition) -> None:
    first = start_flow(bant, channel="chat", context={})
    assert first.messages[0].startswith("Hi! Thanks for reaching out.")


# ---------------------------------------------------------------- re-asks


def test_invalid_answer_reasks_with_options_then_hands_off() -> None:
    definition = flow({"q": COLOR_ASK, "bye": BYE}, fallback_queue="support")
    turns = play(definition, ["purple", "", "yellow"])

    assert turns[1].messages == (
        "Sorry, I didn't get that. Please reply with the number or name of an option.\n1) Red  2) Sky blue  3) Green",
    )
    assert turns[1].state.reasks == 1 and turns[1].captured == {} and turns[1].effects == ()
    assert turns[1].awaiting is not None and not turns[1].done
    assert turns[2].state.reasks == 2  # empty input is an invalid answer, not an error

    last = turns[3]
    assert last.done and last.state.status == "handed_off"
    assert last.state.current_step == "q"
    assert last.messages == (definition.fallback_text,)
    assert last.effects == (
        Effect(kind="handoff", queue="support", reason="no valid answer for 'color' after 3 attempts"),
    )
    assert "color" not in last.state.answers


def test_exhausted_reasks_go_to_on_invalid_when_given() -> None:
    ask = {**COLOR_ASK, "max_reasks": 0, "on_invalid": "skip", "reask_text": "Pick a color, {first_name}."}
    definition = flow({"q": ask, "skip": {"type": "end", "text": "Never mind."}, "bye": BYE})
    last = play(definition, ["purple"])[-1]
    assert last.messages == ("Never mind.",)
    assert last.state.status == "completed" and last.effects == ()


def test_custom_reask_text_is_rendered_and_keeps_options() -> None:
    ask = {**COLOR_ASK, "reask_text": "Pick a color, {first_name}."}
    definition = flow({"q": ask, "bye": BYE})
    assert play(definition, ["purple"])[-1].messages == ("Pick a color, Ana.\n1) Red  2) Sky blue  3) Green",)


def test_valid_answer_after_reask_resets_counter() -> None:
    second = {**COLOR_ASK, "field": "other", "next": "bye"}
    definition = flow({"q": {**COLOR_ASK, "next": "q2"}, "q2": second, "bye": BYE})
    turns = play(definition, ["purple", "red"])
    assert turns[-1].state.reasks == 0 and turns[-1].state.current_step == "q2"


# ---------------------------------------------------------------- answer parsing


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("2", "blue"),
        ("2)", "blue"),
        (" 3. ", "green"),
        ("Sky Blue", "blue"),
        ("SKY BLUE!", "blue"),
        ("azure", "blue"),
        ("Navy", "blue"),
        ("BLUE", "blue"),
        ("crimson", "red"),
        ("4", None),
        ("0", None),
        ("purple", None),
        ("", None),
    ],
)
def test_choice_matching(reply: str, expected: str | None) -> None:
    choices = flow({"q": COLOR_ASK, "bye": BYE}).steps["q"].choices  # type: ignore[union-attr]
    assert match_choice(choices, reply) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("5000", 5000),
        ("5,000", 5000),
        ("5k", 5000),
        ("5K", 5000),
        ("1.5k", 1500),
        ("2m", 2_000_000),
        ("$12,500", 12500),
        ("12,500 €", 12500),
        ("2.5", 2.5),
        ("-3", -3),
        ("1,234,567", 1234567),
        ("5.000", None),  # ambiguous thousands separator: re-ask rather than guess
        ("5,00", None),
        ("five", None),
        ("5kk", None),
        ("", None),
    ],
)
def test_number_parsing(reply: str, expected: float | None) -> None:
    result = parse_number(reply)
    assert result == expected
    if expected is not None:
        assert type(result) is type(expected)


def test_number_ask_stores_a_number() -> None:
    ask = {"type": "ask", "text": "Budget?", "field": "budget", "expect": "number", "next": "bye"}
    definition = flow({"q": ask, "bye": {"type": "end", "text": "Budget {budget} noted."}})
    turns = play(definition, ["lots", "5k"])
    assert turns[1].messages == ("Sorry, I need a number there, for example 5000 or 5k.",)
    assert turns[2].captured == {"budget": 5000}
    assert turns[2].messages == ("Budget 5000 noted.",)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("Sí", True),
        ("si", True),
        ("TRUE", True),
        ("Yes!", True),
        ("no", False),
        ("N", False),
        ("false", False),
        ("maybe", None),
        ("", None),
    ],
)
def test_yes_no_parsing(reply: str, expected: bool | None) -> None:
    assert parse_yes_no(reply) is expected


@pytest.mark.parametrize(
    ("expect", "reply", "valid"),
    [
        ("email", "ana@acme.io", True),
        ("email", "ana@acme", False),
        ("email", "ana @acme.io", False),
        ("phone", "+1 (555) 123-4567", True),
        ("phone", "5551234", True),
        ("phone", "555123", False),
        ("phone", "1234567890123456", False),
        ("phone", "555-CALL-NOW", False),
        ("phone", "55+51234567", False),
        ("text", "  hello  ", True),
        ("text", "   ", False),
    ],
)
def test_email_phone_text_validation(expect: str, reply: str, valid: bool) -> None:
    ask = {"type": "ask", "text": "?", "field": "f", "expect": expect, "next": "bye"}
    definition = flow({"q": ask, "bye": {"type": "end", "text": "ok"}})
    turn = play(definition, [reply])[-1]
    assert turn.done is valid
    if valid:
        assert turn.captured == {"f": reply.strip()}


def test_yes_no_branches_as_yes_and_no() -> None:
    steps = {
        "q": {"type": "ask", "text": "Newsletter?", "field": "optin", "expect": "yes_no", "next": "b"},
        "b": {"type": "branch", "field": "optin", "cases": {"yes": "y", "no": "n"}, "default": "n"},
        "y": {"type": "end", "text": "Subscribed: {optin}."},
        "n": {"type": "end", "text": "Not subscribed."},
    }
    definition = flow(steps)
    assert play(definition, ["sí"])[-1].messages == ("Subscribed: yes.",)
    assert play(definition, ["n"])[-1].messages == ("Not subscribed.",)
    assert play(definition, ["si"])[-1].captured == {"optin": True}


# ---------------------------------------------------------------- rendering


def test_voice_and_chat_render_the_same_step_differently() -> None:
    definition = flow({"q": COLOR_ASK, "bye": BYE})
    chat = start_flow(definition, channel="chat", context={})
    voice = start_flow(definition, channel="voice", context={})
    assert chat.messages == ("Favourite color?\n1) Red  2) Sky blue  3) Green",)
    assert voice.messages == ("Favourite color? You can say: Red, Sky blue, or Green.",)
    assert chat.state == voice.state and chat.awaiting == voice.awaiting
    voice_reask = advance_flow(definition, voice.state, "purple", channel="voice", context={})
    assert voice_reask.messages == ("Sorry, I didn't get that. You can say: Red, Sky blue, or Green.",)
    for text in voice.messages + voice_reask.messages:
        assert ")" not in text and "\n" not in text and "*" not in text


def test_voice_lists_two_options_with_or() -> None:
    ask = {**COLOR_ASK, "choices": COLOR_ASK["choices"][:2]}
    voice = start_flow(flow({"q": ask, "bye": BYE}), channel="voice", context={})
    assert voice.messages == ("Favourite color? You can say: Red or Sky blue.",)


def test_one_run_can_switch_channels(bant: FlowDefinition) -> None:
    chat_first = start_flow(bant, channel="chat", context=CONTEXT)
    turn = advance_flow(bant, chat_first.state, "urgent", channel="voice", context=CONTEXT)
    assert turn.messages[0].endswith(
        "You can say: Under a thousand, 1 to 10 thousand, 10 to 50 thousand, Over 50 thousand, or Not sure yet."
    )
    turn = advance_flow(bant, turn.state, "over 50 thousand", channel="chat", context=CONTEXT)
    assert turn.state.answers["budget"] == "over_50k"


def test_template_substitution() -> None:
    values: dict[str, Scalar] = {"first_name": "Ana", "count": 3, "vip": True}
    assert render_template("Hi {first_name}!", values) == "Hi Ana!"
    assert render_template("Hi {missing}!", values) == "Hi!"
    assert render_template("Hi {missing}, welcome", values) == "Hi, welcome"
    assert render_template("{missing} Hello", values) == "Hello"
    assert render_template("{count} items, vip: {vip}", values) == "3 items, vip: yes"
    # Not placeholders: left alone rather than raising like str.format would.
    assert render_template("{0} {} {first name} {__class__}", values) == "{0} {} {first name}"
    assert render_template("{{first_name}}", values) == "{Ana}"  # no escape syntax: one pass, inner name
    assert render_template("{first_name.__class__}", values) == "{first_name.__class__}"


def test_braces_in_user_input_are_not_substituted() -> None:
    ask = {"type": "ask", "text": "Company?", "field": "company", "next": "bye"}
    bye = {"type": "end", "text": "Thanks, {company} ({first_name})."}
    definition = flow({"q": ask, "bye": bye})
    context = {"first_name": "{company}"}
    turn = advance_flow(
        definition,
        start_flow(definition, channel="chat", context=context).state,
        "{first_name} {0} {__class__}",
        channel="chat",
        context=context,
    )
    assert turn.messages == ("Thanks, {first_name} {0} {__class__} ({company}).",)
    assert turn.captured == {"company": "{first_name} {0} {__class__}"}


def test_answers_override_context_in_templates() -> None:
    steps = {
        "s": {"type": "set_field", "field": "first_name", "value": "Bea", "next": "bye"},
        "bye": {"type": "end", "text": "Bye {first_name}."},
    }
    turn = start_flow(flow(steps, start="s"), channel="chat", context={"first_name": "Ana"})
    assert turn.messages == ("Bye Bea.",)
    assert turn.captured == {"first_name": "Bea"}
    assert turn.effects == (Effect(kind="set_field", field="first_name", value="Bea"),)


# ---------------------------------------------------------------- run lifecycle


def test_advancing_a_finished_run_raises(bant: FlowDefinition) -> None:
    last = play(bant, ["exploring", "1", "3", "4"])[-1]
    assert last.state.status == "completed"
    with pytest.raises(FlowError, match="run is completed; start a new run") as caught:
        advance_flow(bant, last.state, "hello", channel="chat", context=CONTEXT)
    assert caught.value.field == "status"


def test_state_for_another_flow_or_version_is_rejected(bant: FlowDefinition) -> None:
    state = start_flow(bant, channel="chat", context=CONTEXT).state
    other = flow({"q": COLOR_ASK, "bye": BYE})
    with pytest.raises(FlowError) as caught:
        advance_flow(other, state, "1", channel="chat", context={})
    assert caught.value.field == "flow_id"
    newer = bant.model_copy(update={"version": bant.version + 1})
    with pytest.raises(FlowError) as caught:
        advance_flow(newer, state, "1", channel="chat", context={})
    assert caught.value.field == "flow_version"
    with pytest.raises(FlowError) as caught:
        advance_flow(bant, state.model_copy(update={"current_step": "greet"}), "1", channel="chat", context={})
    assert caught.value.field == "current_step"


def test_unknown_channel_is_rejected(bant: FlowDefinition) -> None:
    with pytest.raises(FlowError) as caught:
        start_flow(bant, channel="sms", context={})  # type: ignore[arg-type]
    assert caught.value.field == "channel"


def test_runaway_turn_is_capped() -> None:
    count = MAX_STEPS_PER_TURN + 1
    steps = {f"s{i}": {"type": "say", "text": "x", "next": f"s{i + 1}"} for i in range(count)}
    steps[f"s{count}"] = {"type": "end", "text": "done"}
    with pytest.raises(FlowError, match="more than 100 steps") as caught:
        start_flow(flow(steps, start="s0"), channel="chat", context={})
    assert caught.value.field == "steps"


def test_flow_that_ends_without_asking() -> None:
    steps = {
        "t": {"type": "add_tag", "tag": "vip", "next": "p"},
        "p": {"type": "adjust_score", "points": -3, "reason": "test", "next": "h"},
        "h": {"type": "handoff", "text": "Connecting you.", "queue": "support", "reason": "vip"},
    }
    turn = start_flow(flow(steps, start="t"), channel="voice", context={})
    assert turn.done and turn.state.status == "handed_off" and turn.awaiting is None
    assert turn.state.visited == 3
    assert [effect.kind for effect in turn.effects] == ["add_tag", "adjust_score", "handoff"]
    assert turn.effects[1].points == -3


def test_runs_are_deterministic(bant: FlowDefinition) -> None:
    answers = ["urgent", "purple", "2", "i do", "this month"]
    first = [turn.model_dump_json() for turn in play(bant, answers)]
    second = [turn.model_dump_json() for turn in play(bant, answers)]
    assert first == second


def test_state_round_trips_through_json_mid_run(bant: FlowDefinition) -> None:
    answers = ["urgent", "over_50k", "decision maker", "this month"]
    direct = play(bant, answers, context={"first_name": "Ana"})
    mid = direct[2].state
    restored = FlowState.model_validate_json(mid.model_dump_json())
    assert restored == mid
    turn = restored
    resumed: list[FlowTurn] = []
    for answer in answers[2:]:
        resumed.append(advance_flow(bant, turn, answer, channel="chat", context={"first_name": "Ana"}))
        turn = FlowState.model_validate_json(resumed[-1].state.model_dump_json())
    assert resumed == direct[3:]


def test_answer_types_survive_json() -> None:
    state = FlowState(
        flow_id="x",
        flow_version=1,
        current_step="q",
        answers={"flag": True, "count": 5, "ratio": 2.5, "name": "5"},
    )
    restored = FlowState.model_validate_json(state.model_dump_json())
    assert restored.answers == state.answers
    assert [type(value) for value in restored.answers.values()] == [bool, int, float, str]


# ---------------------------------------------------------------- definition validation


def test_missing_target_step_is_named() -> None:
    with pytest.raises(ValidationError, match=r"step 'q' field next: target step 'nowhere' does not exist"):
        flow({"q": {**COLOR_ASK, "next": "nowhere"}, "bye": BYE})
    with pytest.raises(ValidationError, match=r"step 'b' field cases\['x'\]: target step 'gone'"):
        flow(
            {"b": {"type": "branch", "field": "f", "cases": {"x": "gone"}, "default": "e"}, "e": BYE},
            start="b",
        )


def test_missing_start_is_rejected() -> None:
    with pytest.raises(ValidationError, match="start: step 'nope' does not exist"):
        flow({"bye": BYE}, start="nope")


def test_non_interactive_cycle_is_rejected() -> None:
    steps = {
        "a": {"type": "say", "text": "a", "next": "b"},
        "b": {"type": "branch", "field": "f", "cases": {"x": "e"}, "default": "c"},
        "c": {"type": "add_tag", "tag": "t", "next": "a"},
        "e": BYE,
    }
    with pytest.raises(ValidationError, match=r"a -> b -> c -> a loop without an ask step"):
        flow(steps, start="a")


def test_cycle_through_an_ask_is_allowed() -> None:
    steps = {
        "q": {"type": "ask", "text": "More?", "field": "more", "expect": "yes_no", "next": "b"},
        "b": {"type": "branch", "field": "more", "cases": {"yes": "s"}, "default": "bye"},
        "s": {"type": "say", "text": "Sure.", "next": "q"},
        "bye": {"type": "end", "text": "Bye."},
    }
    definition = flow(steps)
    turns = play(definition, ["yes", "no"])
    assert turns[1].messages == ("Sure.", "More?")
    assert turns[2].state.status == "completed"


def test_no_reachable_terminal_is_rejected() -> None:
    steps = {
        "q": {"type": "ask", "text": "?", "field": "f", "next": "q"},
        "orphan": {"type": "end", "text": "unreachable"},
    }
    with pytest.raises(ValidationError, match="no handoff or end step is reachable"):
        flow(steps)


@pytest.mark.parametrize(
    ("ask_update", "message"),
    [
        ({"choices": []}, "needs at least one option"),
        ({"expect": "text"}, "only allowed when expect is 'choice'"),
        ({"choices": [{"id": "a", "label": "A"}, {"id": "b", "label": "a"}]}, "matches both option 'a'"),
        ({"choices": [{"id": "a", "label": "A", "synonyms": ["2"]}]}, "is a bare number"),
        ({"choices": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]}, "option id 'a' is repeated"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"max_reasks": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_ask_definitions_are_rejected(ask_update: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        flow({"q": {**COLOR_ASK, **ask_update}, "bye": BYE})
    assert "steps.q" in str(caught.value)


def test_unknown_step_type_is_rejected() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        flow({"q": {"type": "jump", "next": "bye"}, "bye": BYE})


def test_default_flows_load_and_are_valid(bant: FlowDefinition) -> None:
    flows = load_default_flows()
    assert "bant-qualification" in flows
    assert bant.start == "greet"
    assert {"ask_need", "ask_budget", "ask_authority", "ask_timeline", "ask_email"} <= set(bant.steps)

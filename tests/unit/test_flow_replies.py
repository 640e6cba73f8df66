"""Free-text answers to the BANT flow, in English and Spanish: understood when clear, never misread.

Each case is (reply, expected): an option id; None when the reply must not be taken as any answer; or
"!option" when the reply may be unclear but must never be read as that option (a negation of it).
"""

from typing import Any

import pytest

from promptsales.domain_core.crm.model.flow_definitions import AskStep
from promptsales.domain_core.crm.model.flows import (
    Suggestion,
    advance_flow,
    load_default_flows,
    pending_question,
    start_flow,
    understand,
)
from promptsales.domain_core.crm.model.reply_extraction import extraction_schema, suggestion_from
from promptsales.domain_core.crm.model.reply_interpreter import CONFIDENT, interpret_reply

BANT = load_default_flows()["bant-qualification"]
Case = tuple[str, str | None]


def ask(name: str) -> AskStep:
    step = BANT.steps[f"ask_{name}"]
    assert isinstance(step, AskStep)
    return step


def check(step: AskStep, reply: str, expected: Any) -> None:
    got = understand(step, reply)
    if isinstance(expected, str) and expected.startswith("!"):
        assert got != expected[1:], f"{reply!r} was misread as {got!r}"
    else:
        assert got == expected, f"{reply!r} -> {got!r} ({interpret_reply(step, reply)}), expected {expected!r}"


BUDGET_EN: list[Case] = [
    ("we have about 50k USD", "10k_50k"),
    ("around $5,000", "1k_10k"),
    ("Our budget is 120k dollars", "over_50k"),
    ("maybe 800 bucks", "under_1k"),
    ("somewhere between 10 and 20 thousand euros", "10k_50k"),
    ("up to 30k", "10k_50k"),
    ("We can spend roughly 75,000", "over_50k"),
    ("half a million", "over_50k"),
    ("about 2.5k per year", "1k_10k"),
    ("fifty thousand dollars", "10k_50k"),
    ("a hundred grand, give or take", "over_50k"),
    ("less than five hundred dollars", "under_1k"),
    ("not sure yet, still figuring it out", "unknown"),
    ("we don't have a budget yet", "unknown"),
]
BUDGET_ES: list[Case] = [
    ("unos 50.000 euros", "10k_50k"),
    ("tenemos alrededor de 5 mil dólares", "1k_10k"),
    ("más de 100 mil euros", "over_50k"),
    ("menos de 500 euros", "under_1k"),
    ("entre 10 y 20 mil", "10k_50k"),
    ("cincuenta mil dólares", "10k_50k"),
    ("medio millón de pesos", "over_50k"),
    ("unos 3.000€ al año", "1k_10k"),
    ("hasta 8 mil euros", "1k_10k"),
    ("1,5 millones", "over_50k"),
    ("no tenemos presupuesto todavía", "unknown"),
    ("no lo sé", "unknown"),
]
BUDGET_NOT: list[Case] = [
    ("we're a team of 50 people", None),
    ("call me in 3 months", None),
    ("we don't have 50k", None),
    ("no tenemos 50 mil", None),
    ("somos 20 personas", None),
    ("purple", None),
    ("by 2027 hopefully", None),
]

TIMELINE_EN: list[Case] = [
    ("It's pretty urgent for us", "this_month"),
    ("in two weeks", "this_month"),
    ("ASAP", "this_month"),
    ("yesterday!", "this_month"),
    ("next month", "this_quarter"),
    ("within the next 3 months", "this_quarter"),
    ("in a couple of months", "this_quarter"),
    ("next quarter", "this_year"),
    ("by the end of the year", "this_year"),
    ("next year probably", "no_timeline"),
    ("no rush at all", "no_timeline"),
    ("honestly not sure", "no_timeline"),
]
TIMELINE_ES: list[Case] = [
    ("en dos semanas", "this_month"),
    ("lo antes posible", "this_month"),
    ("es urgente", "this_month"),
    ("para finales de mes", "this_month"),
    ("en 3 meses", "this_quarter"),
    ("el próximo trimestre", "this_year"),
    ("dentro de seis meses", "this_year"),
    ("este año", "this_year"),
    ("el año que viene", "no_timeline"),
    ("sin prisa", "no_timeline"),
    ("no lo sé todavía", "no_timeline"),
]
TIMELINE_NOT: list[Case] = [
    ("not this month", "!this_month"),
    ("no este mes", "!this_month"),
    ("blue", None),
    ("we're 20 people", None),
    ("cuesta 50 euros", None),
]

NEED_EN: list[Case] = [
    ("It's pretty urgent for us", "urgent"),
    ("we're losing customers every week", "urgent"),
    ("top priority for the team", "urgent"),
    ("it's critical", "urgent"),
    ("it's important but it can wait", "important"),
    ("not urgent, but it matters", "important"),
    ("kind of urgent", "important"),
    ("I'd say it's important", "important"),
    ("we're just looking around", "exploring"),
    ("just curious really", "exploring"),
    ("nice to have", "exploring"),
]
NEED_ES: list[Case] = [
    ("es urgente", "urgent"),
    ("es crítico para nosotros", "urgent"),
    ("estamos perdiendo clientes", "urgent"),
    ("lo necesitamos cuanto antes", "urgent"),
    ("es importante pero no urgente", "important"),
    ("bastante importante", "important"),
    ("es algo urgente", "important"),
    ("solo estoy mirando", "exploring"),
    ("por curiosidad", "exploring"),
    ("no es prioridad", "exploring"),
]
NEED_NOT: list[Case] = [
    ("not urgent at all", "!urgent"),
    ("no es urgente", "!urgent"),
    ("nothing critical", "!urgent"),
    ("no es crítico", "!urgent"),
    ("it's not important", "!important"),
    ("purple", None),
    ("hello", None),
]

AUTHORITY_EN: list[Case] = [
    ("I'm the CTO and I sign off", "decision_maker"),
    ("yep", "decision_maker"),
    ("it's my call", "decision_maker"),
    ("I have the final say", "decision_maker"),
    ("I'm the founder", "decision_maker"),
    ("my boss decides", "no"),
    ("procurement handles that", "no"),
    ("nope, that's my boss", "no"),
    ("I recommend, my manager signs", "influencer"),
    ("we decide as a team", "influencer"),
    ("I'm the CTO but the CEO signs off", "influencer"),
]
AUTHORITY_ES: list[Case] = [
    ("sí, claro", "decision_maker"),
    ("yo decido", "decision_maker"),
    ("soy el dueño", "decision_maker"),
    ("soy la directora general", "decision_maker"),
    ("la decisión es mía", "decision_maker"),
    ("decide mi jefe", "no"),
    ("no, lo decide el director general", "no"),
    ("tengo que consultarlo con mi jefe", "no"),
    ("me parece que decide mi jefe", "no"),
    ("lo decidimos en equipo", "influencer"),
    ("yo recomiendo y firma mi jefa", "influencer"),
]
AUTHORITY_NOT: list[Case] = [
    ("I don't make the call", "!decision_maker"),
    ("I'm not the one who signs", "!decision_maker"),
    ("it's not up to me", "!decision_maker"),
    ("yo no decido", "!decision_maker"),
    ("no sé", "!no"),
    ("not sure who decides", "!no"),
]

YES_NO = AskStep.model_validate(
    {"type": "ask", "text": "Can we call you?", "field": "f", "expect": "yes_no", "next": "x"}
)
YES_NO_CASES: list[tuple[str, bool | None]] = [
    ("yep", True),
    ("sure thing", True),
    ("of course", True),
    ("absolutely, go ahead", True),
    ("yes please", True),
    ("sounds good", True),
    ("no problem", True),
    ("nope", False),
    ("not really", False),
    ("no thanks", False),
    ("I don't think so", False),
    ("sí, claro", True),
    ("claro que sí", True),
    ("por supuesto", True),
    ("vale", True),
    ("desde luego", True),
    ("sin problema", True),
    ("no, gracias", False),
    ("para nada", False),
    ("creo que no", False),
    ("ni hablar", False),
    # Never a yes or a no:
    ("no sé", None),
    ("I don't know", None),
    ("maybe", None),
    ("quizás", None),
    ("yes and no", None),
    ("not sure", None),
    ("depende", None),
    ("no tenemos", None),
    ("si hace falta", None),
]


@pytest.mark.parametrize(("reply", "expected"), BUDGET_EN + BUDGET_ES + BUDGET_NOT)
def test_budget_replies(reply: str, expected: str | None) -> None:
    check(ask("budget"), reply, expected)


@pytest.mark.parametrize(("reply", "expected"), TIMELINE_EN + TIMELINE_ES + TIMELINE_NOT)
def test_timeline_replies(reply: str, expected: str | None) -> None:
    check(ask("timeline"), reply, expected)


@pytest.mark.parametrize(("reply", "expected"), NEED_EN + NEED_ES + NEED_NOT)
def test_need_replies(reply: str, expected: str | None) -> None:
    check(ask("need"), reply, expected)


@pytest.mark.parametrize(("reply", "expected"), AUTHORITY_EN + AUTHORITY_ES + AUTHORITY_NOT)
def test_authority_replies(reply: str, expected: str | None) -> None:
    check(ask("authority"), reply, expected)


@pytest.mark.parametrize(("reply", "expected"), YES_NO_CASES)
def test_yes_no_replies(reply: str, expected: bool | None) -> None:
    check(YES_NO, reply, expected)


def test_every_dimension_has_ten_replies_per_language() -> None:
    for cases in (BUDGET_EN, BUDGET_ES, TIMELINE_EN, TIMELINE_ES, NEED_EN, NEED_ES, AUTHORITY_EN, AUTHORITY_ES):
        assert len(cases) >= 10
    assert len(YES_NO_CASES) >= 20


@pytest.mark.parametrize(
    ("step", "reply", "expected"),
    [
        ("need", "option 2", "important"),
        ("budget", "la última", "unknown"),
        ("timeline", "the first one", "this_month"),
        ("authority", "la segunda", "influencer"),
    ],
)
def test_options_can_be_named_by_position(step: str, reply: str, expected: str) -> None:
    check(ask(step), reply, expected)


def test_readings_explain_themselves_and_ambiguity_lowers_confidence() -> None:
    clear = interpret_reply(ask("budget"), "we have about 50k USD")
    assert clear is not None and clear.confidence >= CONFIDENT
    assert "50000" in clear.reason and "USD" in clear.reason
    torn = interpret_reply(ask("budget"), "not sure, maybe 20k")
    assert torn is not None and torn.confidence < CONFIDENT


def test_a_bant_run_in_free_text_qualifies_like_the_option_numbers() -> None:
    context = {"first_name": "Ana", "email": "ana@acme.test"}
    turn = start_flow(BANT, channel="voice", context=context)
    for reply in ("It's pretty urgent for us", "we have about 80k USD", "I'm the CEO and I sign off", "ASAP"):
        turn = advance_flow(BANT, turn.state, reply, channel="voice", context=context)
    assert turn.state.answers == {
        "need": "urgent",
        "budget": "over_50k",
        "authority": "decision_maker",
        "timeline": "this_month",
    }
    assert turn.state.status == "handed_off"


def test_a_suggestion_is_used_only_for_its_question_and_only_when_valid() -> None:
    context = {"first_name": "Ana", "email": "ana@acme.test"}
    first = start_flow(BANT, channel="chat", context=context)
    unclear = "mmm, hard to put into words"
    assert understand(ask("need"), unclear) is None
    reask = advance_flow(BANT, first.state, unclear, channel="chat", context=context)
    assert reask.captured == {} and reask.state.reasks == 1

    def answer(reply: str, suggestion: Suggestion) -> dict[str, object]:
        turn = advance_flow(BANT, first.state, reply, channel="chat", context=context, suggestion=suggestion)
        return dict(turn.captured)

    assert answer(unclear, Suggestion(step_id="ask_budget", value="urgent")) == {}  # another question's
    assert answer(unclear, Suggestion(step_id="ask_need", value="very")) == {}  # not an option
    assert answer(unclear, Suggestion(step_id="ask_need", value="exploring")) == {"need": "exploring"}
    # What the reply itself says wins over a suggestion.
    assert answer("urgent", Suggestion(step_id="ask_need", value="exploring")) == {"need": "urgent"}


def test_the_extraction_schema_names_the_options_and_maps_labels_back() -> None:
    step = ask("budget")
    schema = extraction_schema(step)
    assert schema is not None
    prop = schema["properties"]["budget"]
    assert prop["enum"] == ["under_1k", "1k_10k", "10k_50k", "over_50k", "unknown"]
    assert "Over 50 thousand" in prop["description"]
    assert suggestion_from("ask_budget", step, {"budget": "over_50k"}) == Suggestion(
        step_id="ask_budget", value="over_50k"
    )
    assert suggestion_from("ask_budget", step, {"budget": "Over 50 thousand"}) == Suggestion(
        step_id="ask_budget", value="over_50k"
    )
    assert suggestion_from("ask_budget", step, {"budget": "lots"}) is None
    assert suggestion_from("ask_budget", step, {}) is None
    email = BANT.steps["ask_email"]
    assert isinstance(email, AskStep) and extraction_schema(email) is None


def test_pending_question_is_the_ask_a_run_waits_on() -> None:
    first = start_flow(BANT, channel="chat", context={})
    assert pending_question(BANT, first.state) == ask("need")
    done = first.state.model_copy(update={"status": "completed"})
    assert pending_question(BANT, done) is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("about 5k dollars", 5000),
        ("unas veinte personas", 20),
        ("we are 12 people", 12),
        ("5.000", None),  # five thousand or five: the exact reader refuses to guess, and so does this one
        ("lots", None),
        ("between 5 and 10", None),
    ],
)
def test_number_questions_read_one_number_in_a_sentence(reply: str, expected: float | None) -> None:
    step = AskStep.model_validate({"type": "ask", "text": "How many?", "field": "n", "expect": "number", "next": "x"})
    assert understand(step, reply) == expected

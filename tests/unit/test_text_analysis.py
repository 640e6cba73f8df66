"""Local text analysis: sentiment (negation, intensifiers, emoji), intent, topic, summaries and field extraction."""

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptsales.domain_core.content.model.text_analysis import (
    DEFAULT_INTENTS,
    detect_language,
    extract_fields,
    intent,
    sentence_spans,
    sentiment,
    summarize,
    topic,
)
from promptsales.domain_core.shared.errors import ValidationFailed

SENTIMENT_EXAMPLES = [
    ("I love it, the onboarding was great!", "positive"),
    ("Excellent support, thank you so much", "positive"),
    ("The new dashboard is really helpful 👍", "positive"),
    ("Not bad at all, actually", "positive"),
    ("We are very happy with the results", "positive"),
    ("Looking forward to the demo next week", "positive"),
    ("Thanks, that fixed it :)", "positive"),
    ("It was slow at first, but now it works great", "positive"),
    ("This is not good", "negative"),
    ("The export is broken again and I'm frustrated", "negative"),
    ("Terrible experience, a waste of money", "negative"),
    ("I don't like the new pricing", "negative"),
    ("The app doesn't work on my phone 😡", "negative"),
    ("Nice design, but the reports are useless", "negative"),
    ("Unfortunately we are not satisfied", "negative"),
    ("I am extremely disappointed with the support", "negative"),
    ("The meeting is on Tuesday at 10am.", "neutral"),
    ("Please send the invoice to accounting.", "neutral"),
    ("We use Salesforce and HubSpot.", "neutral"),
    ("Me encanta la plataforma, funciona de maravilla", "positive"),
    ("Muchas gracias por la ayuda, excelente servicio", "positive"),
    ("La demo fue muy buena 😊", "positive"),
    ("No está mal, la verdad", "positive"),
    ("Estamos muy contentos con los resultados", "positive"),
    ("Vale la pena, lo recomiendo", "positive"),
    ("No me gusta nada el nuevo diseño", "negative"),
    ("El soporte es pésimo y muy lento", "negative"),
    ("La integración no funciona desde ayer", "negative"),
    ("Estoy harto, es inaceptable", "negative"),
    ("Bonito, pero muy caro y confuso", "negative"),
    ("Lamentablemente no estamos satisfechos", "negative"),
    ("Una pérdida de tiempo 👎", "negative"),
    ("La reunión es el martes a las 10.", "neutral"),
    ("Te envío la factura por correo.", "neutral"),
    ("Usamos HubSpot para el CRM.", "neutral"),
]


@pytest.mark.parametrize(("text", "expected"), SENTIMENT_EXAMPLES)
def test_sentiment_labelled_examples(text: str, expected: str) -> None:
    result = sentiment(text)
    assert result.label == expected, (text, result)
    assert -1.0 <= result.score <= 1.0
    if expected != "neutral":
        assert result.evidence and all(e in text for e in result.evidence)


def test_sentiment_negation_flips_and_quotes_the_negator() -> None:
    assert sentiment("good", language="en").label == "positive"
    negated = sentiment("not good", language="en")
    assert negated.label == "negative" and negated.evidence == ["not good"]
    assert sentiment("Me gusta", language="es").label == "positive"
    assert sentiment("No me gusta", language="es").evidence == ["No me gusta"]


def test_sentiment_intensifiers_and_contrast() -> None:
    assert sentiment("very good").score > sentiment("good").score > sentiment("slightly good").score > 0
    assert sentiment("muy bueno", language="es").score > sentiment("bueno", language="es").score
    # What follows "but" outweighs what precedes it.
    assert sentiment("The price is high but the product is great").label == "positive"


def test_sentiment_emoji_alone() -> None:
    assert sentiment("😍😍").label == "positive"
    assert sentiment("👎").label == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi Ana, could you send me the pricing?", "en"),
        ("Hola Ana, ¿me puedes enviar los precios?", "es"),
        ("Gracias por la llamada de ayer", "es"),
        ("Thanks for the call yesterday", "en"),
        ("demo", "en"),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


@given(st.text(min_size=1, max_size=300).filter(str.strip))
@settings(max_examples=150, deadline=None)
def test_sentiment_is_bounded_and_consistent(text: str) -> None:
    result = sentiment(text)
    assert -1.0 <= result.score <= 1.0
    assert result.label == ("positive" if result.score >= 0.05 else "negative" if result.score <= -0.05 else "neutral")
    assert all(e in text for e in result.evidence)
    assert sentiment(text) == result


def test_sentiment_validates_input() -> None:
    with pytest.raises(ValidationFailed) as empty:
        sentiment("   ")
    assert empty.value.field == "text"
    with pytest.raises(ValidationFailed) as language:
        sentiment("hello", language="fr")
    assert language.value.field == "language" and "en" in (language.value.hint or "")


INTENT_EXAMPLES = [
    ("We're ready to move forward, please send over the contract.", "purchase"),
    ("We'd like to buy 20 licenses this month.", "purchase"),
    ("Queremos contratar el plan anual, envíennos la factura.", "purchase"),
    ("How much does the Pro plan cost per seat?", "pricing"),
    ("Can you share your pricing and any discounts for nonprofits?", "pricing"),
    ("¿Cuánto cuesta el plan Business? Necesito una cotización.", "pricing"),
    ("Could we book a demo for my team next week?", "demo_request"),
    ("I'd love to see the platform in action, do you offer a walkthrough?", "demo_request"),
    ("Nos gustaría agendar una demo para el equipo de ventas.", "demo_request"),
    ("I can't log in, the page shows an error since this morning.", "support"),
    ("The CSV import is not working, can you help?", "support"),
    ("No puedo exportar los informes, me da error.", "support"),
    ("This is unacceptable, we were charged twice and no one has replied.", "complaint"),
    ("I'm extremely frustrated with the terrible support experience.", "complaint"),
    ("Pésimo servicio, quiero poner una queja formal.", "complaint"),
    ("We're thinking about switching to a competitor and will not renew.", "churn_risk"),
    ("Please cancel our subscription at the end of the month.", "churn_risk"),
    ("Queremos cancelar la suscripción, nos pasamos a otra herramienta.", "churn_risk"),
    ("Unsubscribe me please.", "unsubscribe"),
    ("Please remove me from your mailing list and stop emailing me.", "unsubscribe"),
    ("Por favor, denme de baja de la lista de correos, no quiero recibir más.", "unsubscribe"),
    ("Can you send me more information about the features?", "information"),
    ("Does it integrate with Shopify? I'd like to learn more.", "information"),
    ("Me gustaría recibir más información sobre las funcionalidades.", "information"),
    ("Can we reschedule our call to Thursday at 3pm?", "scheduling"),
    ("Are you available next week for a meeting?", "scheduling"),
    ("¿Podemos mover la reunión al jueves a las 10?", "scheduling"),
    ("Thanks, talk soon.", "other"),
    ("Gracias, saludos.", "other"),
]


@pytest.mark.parametrize(("text", "expected"), INTENT_EXAMPLES)
def test_intent_labelled_examples(text: str, expected: str) -> None:
    result = intent(text)
    assert result.label == expected, (text, result)
    assert set(result.scores) == set(DEFAULT_INTENTS)
    assert 0.0 <= result.confidence <= 1.0
    assert all(e in text for e in result.evidence)


def test_every_default_label_has_examples() -> None:
    assert {label for _, label in INTENT_EXAMPLES} == set(DEFAULT_INTENTS)


def test_intent_custom_labels_use_keyword_overlap() -> None:
    labels = ["billing", "onboarding", "integrations"]
    assert intent("Our last invoice charged the wrong card", labels).label == "billing"
    assert intent("Necesito conectar HubSpot por API", labels).label == "integrations"
    assert intent("How do we get started with the setup?", labels).label == "onboarding"
    nothing = intent("The weather is lovely today", labels)
    assert nothing.label == "other" and nothing.confidence == 0.0 and nothing.evidence == []
    # Default label names among custom ones keep their patterns.
    assert intent("How much does it cost?", ["pricing", "support"]).label == "pricing"


def test_intent_with_other_label_keeps_weak_evidence_honest() -> None:
    result = intent("hello there", ["billing", "other"])
    assert result.label == "other" and result.scores["billing"] == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We were billed twice on our credit card this month", "billing"),
        ("La factura de marzo tiene un cargo duplicado", "billing"),
        ("The kickoff and initial configuration went well", "onboarding"),
        ("¿Cómo configuro la cuenta en los primeros pasos?", "onboarding"),
        ("The Salesforce sync and webhooks keep failing", "integrations"),
        ("La integración con Slack no sincroniza", "integrations"),
    ],
)
def test_topic_examples(text: str, expected: str) -> None:
    result = topic(text, ["billing", "onboarding", "integrations"])
    assert result.label == expected, result
    assert all(e in text for e in result.evidence)


def test_labels_are_validated() -> None:
    for bad in ([], ["billing", "Billing"], ["", "x"], "billing"):
        with pytest.raises(ValidationFailed) as error:
            topic("text", bad)  # type: ignore[arg-type]
        assert error.value.field == "labels"


# --------------------------------------------------------------------------- summaries

EMAIL = """Hi Ana,

Thanks for the call yesterday. We reviewed the proposal with Dr. Smith from finance.
The main concern is the price per seat, which is above our budget of $20,000 per year.
We also need the Salesforce integration before we can roll it out to 40 reps.
If you can offer a discount for a two-year contract, we can sign by the end of March.

Best,
John"""


def test_summary_is_extractive_ordered_and_limited() -> None:
    summary = summarize(EMAIL, max_sentences=2)
    assert 1 <= len(summary.sentences) <= 2
    positions = [EMAIL.index(s) for s in summary.sentences]
    assert positions == sorted(positions)
    assert summary.text == " ".join(summary.sentences)
    assert 0 < summary.ratio < 1
    assert any("price per seat" in s or "discount" in s for s in summary.sentences)


def test_sentence_split_handles_abbreviations_and_spanish_marks() -> None:
    spans = sentence_spans("We met Dr. Smith at 3.30 today. ¿Puedes venir mañana? ¡Claro que sí! Gracias.")
    text = "We met Dr. Smith at 3.30 today. ¿Puedes venir mañana? ¡Claro que sí! Gracias."
    assert [text[a:b] for a, b in spans] == [
        "We met Dr. Smith at 3.30 today.",
        "¿Puedes venir mañana?",
        "¡Claro que sí!",
        "Gracias.",
    ]


def test_summary_drops_near_duplicates_and_respects_max_chars() -> None:
    text = (
        "The integration with HubSpot failed during the import. "
        "The integration with HubSpot failed during the import! "
        "Support restarted the sync and it worked. Customer asked for a refund of the setup fee."
    )
    summary = summarize(text, max_sentences=3)
    assert len(summary.sentences) == len({s.rstrip(".!") for s in summary.sentences})
    limited = summarize(text, max_sentences=3, max_chars=60)
    assert len(limited.text) <= 60 and limited.text and limited.text in text


WORDS = st.sampled_from(
    [
        "the",
        "pricing",
        "demo",
        "team",
        "invoice",
        "contract",
        "meeting",
        "support",
        "quarter",
        "budget",
        "integration",
        "la",
        "factura",
        "reunión",
        "equipo",
        "presupuesto",
        "soporte",
        "Dr.",
        "approx.",
        "3.5",
        "¿qué",
        "tal?",
        "¡genial!",
    ]
)
SENTENCES = st.lists(WORDS, min_size=1, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")


@given(
    st.lists(SENTENCES, min_size=1, max_size=12).map(" ".join),
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 300)),
)
@settings(max_examples=150, deadline=None)
def test_summary_property_verbatim_ordered_within_limits(text: str, count: int, max_chars: int | None) -> None:
    summary = summarize(text, max_sentences=count, max_chars=max_chars)
    assert len(summary.sentences) <= count
    cursor = 0
    for sentence in summary.sentences:
        found = text.find(sentence, cursor)
        assert found >= 0, sentence
        cursor = found + len(sentence)
    if max_chars is not None:
        assert len(summary.text) <= max_chars


def test_summary_validates_arguments() -> None:
    for kwargs in ({"max_sentences": 0}, {"max_chars": 0}):
        with pytest.raises(ValidationFailed):
            summarize("Some text.", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as empty:
        summarize("")
    assert empty.value.field == "text"


# --------------------------------------------------------------------------- field extraction

LEAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Contact's full name"},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "format": "phone"},
        "company": {"type": "string"},
        "budget": {"type": "number", "description": "Budget in USD"},
        "seats": {"type": "integer", "description": "Number of users or licenses"},
        "meeting_date": {"type": "string", "format": "date", "description": "Date of the next meeting"},
        "priority": {"type": "string", "enum": ["low", "medium", "high"]},
        "decision_maker": {"type": "boolean"},
        "website": {"type": "string", "format": "uri"},
    },
    "required": ["name", "email", "budget", "meeting_date", "industry"],
}
LEAD_SCHEMA["properties"]["industry"] = {"type": "string", "description": "Industry of the company"}

EMAIL_EN = """Hi team,

Following up on today's call with Acme Corp.
Name: Jane Doe
Email: jane.doe@acme.com
Phone: +1 (415) 555-0100
Company: Acme Corp
Budget: $20,000 per year
They need around 50 seats for the sales team.
Next meeting: March 15, 2027 at 10:30 am
Priority: high
Decision maker? Yes
Website: https://acme.com/about.

Thanks!"""

NOTES_ES = """Notas de la llamada con Globex (15 de marzo de 2027)
Contacto: María López, correo maria.lopez@globex.es, tel. 612 345 678.
Presupuesto aproximado de 15.000 € al año para 25 licencias.
La prioridad es alta. ¿Es quien decide? Sí.
Próxima reunión el 3 de abril de 2027."""


def test_extracts_a_realistic_english_email() -> None:
    result = extract_fields(EMAIL_EN, LEAD_SCHEMA)
    assert result.values == {
        "name": "Jane Doe",
        "email": "jane.doe@acme.com",
        "phone": "+14155550100",
        "company": "Acme Corp",
        "budget": 20000,
        "seats": 50,
        "meeting_date": "2027-03-15",
        "priority": "high",
        "decision_maker": True,
        "website": "https://acme.com/about",
    }
    assert result.missing == ["industry"]
    assert result.evidence["budget"] == "$20,000"
    assert all(span in EMAIL_EN for span in result.evidence.values())


def test_extracts_spanish_call_notes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "contact_email": {"type": "string", "format": "email"},
            "telefono": {"type": "string", "description": "Teléfono de contacto"},
            "presupuesto": {"type": "number"},
            "licencias": {"type": "integer"},
            "prioridad": {"type": "string", "enum": ["low", "medium", "high"]},
            "es_decisor": {"type": "boolean", "description": "¿Es quien decide?"},
            "proxima_reunion": {"type": "string", "format": "date", "description": "Próxima reunión"},
            "currency": {"type": "string", "enum": ["USD", "EUR"]},
            "nombre": {"type": "string"},
        },
        "required": ["contact_email", "presupuesto"],
    }
    result = extract_fields(NOTES_ES, schema)
    assert result.values["contact_email"] == "maria.lopez@globex.es"
    assert result.values["telefono"] == "612345678"
    assert result.values["presupuesto"] == 15000
    assert result.values["licencias"] == 25
    assert result.values["prioridad"] == "high"
    assert result.values["es_decisor"] is True
    assert result.values["proxima_reunion"] == "2027-04-03"
    assert result.values["nombre"] == "María López"  # the "Contacto:" line, up to the email
    assert result.missing == []
    assert all(span in NOTES_ES for span in result.evidence.values())


CALL_NOTES_EN = """Call with Tom Baker (Initech), 20 min.
He said the budget is around 50k USD and they want 30 seats.
Decision expected by 2027-06-30. Reach him at tom@initech.com or 555-123-4567.
Decision maker: no, his VP signs."""

EMAIL_ES = """Hola Ana:

Gracias por la demo de ayer. Somos 12 personas en el equipo comercial y nuestro presupuesto es de unos 8.000 euros
anuales. ¿Podrían enviarnos una propuesta antes del 30 de junio de 2027? Mi teléfono es +34 911 234 567.
¿Incluye integración con HubSpot? Sí, la necesitamos.

Saludos,
Carlos Ruiz
carlos.ruiz@ejemplo.es"""


def test_extracts_free_text_call_notes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "budget": {"type": "number"},
            "seats": {"type": "integer"},
            "decision_date": {"type": "string", "format": "date"},
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "format": "phone"},
            "decision_maker": {"type": "boolean"},
            "stage": {"type": "string", "enum": ["new", "qualified", "won", "lost"]},
        },
        "required": ["stage"],
    }
    result = extract_fields(CALL_NOTES_EN, schema)
    assert result.values == {
        "budget": 50000,
        "seats": 30,
        "decision_date": "2027-06-30",
        "email": "tom@initech.com",
        "phone": "5551234567",
        "decision_maker": False,
    }
    assert result.missing == ["stage"]  # no stage is mentioned, so none is guessed


def test_extracts_a_spanish_email() -> None:
    schema = {
        "type": "object",
        "properties": {
            "equipo": {"type": "integer", "description": "Tamaño del equipo (personas)"},
            "presupuesto": {"type": "number"},
            "fecha_limite": {"type": "string", "format": "date", "description": "Fecha límite de la propuesta"},
            "telefono": {"type": "string"},
            "correo": {"type": "string"},
            "necesita_integracion": {"type": "boolean", "description": "Necesita integración con HubSpot"},
        },
        "required": ["presupuesto", "correo"],
    }
    result = extract_fields(EMAIL_ES, schema)
    assert result.values == {
        "equipo": 12,
        "presupuesto": 8000,
        "fecha_limite": "2027-06-30",
        "telefono": "+34911234567",
        "correo": "carlos.ruiz@ejemplo.es",
        "necesita_integracion": True,
    }
    assert result.evidence["presupuesto"] == "8.000 euros"


def test_dates_and_times_in_common_formats() -> None:
    schema = {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}}
    assert extract_fields("Call on 2027-03-15T10:00:00Z please", schema).values == {"when": "2027-03-15T10:00:00Z"}
    assert extract_fields("Nos vemos el 15 de marzo de 2027 a las 16:45", schema).values == {
        "when": "2027-03-15T16:45:00"
    }
    date_only = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    assert extract_fields("Reunión el 05/04/2027", date_only).values == {"day": "2027-04-05"}
    assert extract_fields("Meeting on 04/05/2027 with the team", date_only).values == {"day": "2027-04-05"}
    assert extract_fields("Deadline 15th March 2027", date_only).values == {"day": "2027-03-15"}
    # No year: not a date we can state without inventing one.
    assert extract_fields("See you on March 3", date_only).values == {}


def test_amounts_percentages_and_arrays() -> None:
    schema = {
        "type": "object",
        "properties": {
            "discount": {"type": "number", "description": "Discount percent"},
            "deal_value": {"type": "number"},
            "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
            "channels": {"type": "array", "items": {"type": "string", "enum": ["email", "sms", "whatsapp"]}},
        },
    }
    text = "Deal value 1.2M USD with a 15% discount. CC a@x.io and b@y.org. Reach them by SMS or WhatsApp."
    result = extract_fields(text, schema)
    assert result.values == {
        "discount": 15,
        "deal_value": 1200000,
        "emails": ["a@x.io", "b@y.org"],
        "channels": ["sms", "whatsapp"],
    }


def test_missing_and_nothing_invented() -> None:
    result = extract_fields("Hello, just checking in.", LEAD_SCHEMA)
    assert result.values == {} and result.evidence == {}
    assert result.missing == ["name", "email", "budget", "meeting_date", "industry"]
    # A bare number is not a budget, a bare "yes" is not an answer to an unnamed question.
    vague = extract_fields("We have 3 offices. Yes, we talked.", LEAD_SCHEMA)
    assert "budget" not in vague.values and "decision_maker" not in vague.values


@pytest.mark.parametrize(
    "schema",
    [
        "not a schema",
        {"type": "array"},
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"a": {"type": "object"}}},
        {"type": "object", "properties": {"a": {"type": "string", "format": "uuid"}}},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "array"}}}},
    ],
)
def test_bad_schemas_are_explained(schema: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        extract_fields("text", schema)
    assert error.value.field == "schema"


PROPERTY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "format": "phone"},
        "date": {"type": "string", "format": "date"},
        "url": {"type": "string", "format": "uri"},
        "budget": {"type": "number"},
        "seats": {"type": "integer"},
        "note": {"type": "string"},
        "priority": {"type": "string", "enum": ["low", "high"]},
        "approved": {"type": "boolean"},
    },
}
PIECES = st.sampled_from(
    [
        "budget: $5k",
        "Budget 1.234,50 €",
        "note: call back",
        "email a.b@c.de",
        "+34 600 11 22 33",
        "(415) 555-0100",
        "2027-02-30",
        "31/12/2027",
        "1 de enero de 2028",
        "https://x.org/p?q=1",
        "priority high",
        "approved? no",
        "50 seats",
        "ñandú",
        "😀",
        "seats: many",
        "\n",
        ":",
        "12:30",
        "20%",
    ]
)


@given(st.lists(st.one_of(PIECES, st.text(max_size=12)), min_size=1, max_size=10).map(" ".join).filter(str.strip))
@settings(max_examples=200, deadline=None)
def test_extraction_property_values_come_from_the_text(text: str) -> None:
    result = extract_fields(text, PROPERTY_SCHEMA)
    for name, value in result.values.items():
        span = result.evidence[name]
        assert span and span in text
        if isinstance(value, str) and name in ("email", "url", "note"):
            assert value in text
        if name == "phone":
            assert re.sub(r"\D", "", str(value)) == re.sub(r"\D", "", span)
        if name == "date":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value))
        if name in ("budget", "seats"):
            assert isinstance(value, int | float) and not isinstance(value, bool)
        if name == "seats":
            assert isinstance(value, int)
    assert extract_fields(text, PROPERTY_SCHEMA) == result

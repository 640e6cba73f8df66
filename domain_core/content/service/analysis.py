"""AI services for every context: classify (intent, sentiment, topic), summarize, extract fields.

Local analysis is lexicon- and rule-based; with a model provider the same answers come from the model as
JSON, shape-checked here (an extraction only keeps values that occur in the text).
"""

import json
from typing import Any

from promptsales.domain_core.content.dto import ClassificationView, ExtractionView, SummaryView, Usage
from promptsales.domain_core.content.model import text_analysis
from promptsales.domain_core.content.providers.base import TextRequest, TextResult
from promptsales.domain_core.content.service.ai import LOCAL, Sampled, TextChoice, complete
from promptsales.domain_core.shared.errors import UpstreamError

SENTIMENTS = ("positive", "neutral", "negative")


def _usage(answer: TextResult) -> Usage:
    return Usage(
        provider=answer.provider,
        model=answer.model,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
    )


def _json(answer: TextResult) -> dict[str, Any]:
    text = answer.text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UpstreamError(
            f"The {answer.provider} model did not answer with JSON.", hint="Retry, or use another model."
        ) from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"The {answer.provider} model answered with JSON of the wrong shape.")
    return data


async def classify(
    choice: TextChoice,
    *,
    text: str,
    intents: list[str] | None,
    topics: list[str] | None,
    sampled: Sampled | None,
) -> ClassificationView:
    """Intent (default sales labels, or those given), sentiment, and topic when labels are given."""
    if choice.kind == "local":
        mood = text_analysis.sentiment(text)
        intent = text_analysis.intent(text, intents)
        topic = text_analysis.topic(text, topics) if topics else None
        return ClassificationView(
            intent=intent.label,
            intent_confidence=intent.confidence,
            sentiment=mood.label,
            sentiment_score=mood.score,
            topic=topic.label if topic else None,
            topic_confidence=topic.confidence if topic else None,
            scores=dict(intent.scores),
            evidence=list(intent.evidence) + list(mood.evidence),
            usage=LOCAL,
        )
    intent_labels = intents or list(text_analysis.DEFAULT_INTENTS)
    schema = {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": intent_labels},
            "intent_confidence": {"type": "number"},
            "sentiment": {"type": "string", "enum": list(SENTIMENTS)},
            "sentiment_score": {"type": "number"},
            "topic": {"type": ["string", "null"], **({"enum": [*topics, None]} if topics else {})},
            "evidence": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["intent", "intent_confidence", "sentiment", "sentiment_score", "topic", "evidence"],
        "additionalProperties": False,
    }
    request = TextRequest(
        system="You label sales and support conversations. Answer with JSON only.",
        prompt=(
            f"Intent labels: {intent_labels}. Topic labels: {topics or 'none (answer null)'}. "
            "Sentiment: positive, neutral or negative with a score from -1 to 1. Quote short evidence.\n\n"
            f"Text:\n{text}"
        ),
        max_output_tokens=300,
        temperature=0.0,
        json_schema=schema,
        schema_name="classification",
    )
    answer = await complete(choice, request, sampled=sampled)
    data = _json(answer)
    intent_label = data.get("intent") if data.get("intent") in intent_labels else "other"
    sentiment = data.get("sentiment") if data.get("sentiment") in SENTIMENTS else "neutral"
    topic = data.get("topic") if topics and data.get("topic") in topics else None
    return ClassificationView(
        intent=str(intent_label),
        intent_confidence=_unit(data.get("intent_confidence")),
        sentiment=sentiment,
        sentiment_score=max(-1.0, min(1.0, float(data.get("sentiment_score") or 0.0))),
        topic=topic,
        topic_confidence=_unit(data.get("intent_confidence")) if topic else None,
        scores={str(intent_label): _unit(data.get("intent_confidence"))},
        evidence=[str(e) for e in data.get("evidence") or [] if str(e) in text][:5],
        usage=_usage(answer),
    )


def _unit(value: Any) -> float:
    try:
        return max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


async def summarize(
    choice: TextChoice,
    *,
    text: str,
    max_sentences: int,
    max_chars: int | None,
    sampled: Sampled | None,
) -> SummaryView:
    """An extractive summary locally; a model's summary otherwise (its sentences need not be verbatim)."""
    if choice.kind == "local":
        summary = text_analysis.summarize(text, max_sentences=max_sentences, max_chars=max_chars)
        return SummaryView(summary=summary.text, sentences=list(summary.sentences), ratio=summary.ratio, usage=LOCAL)
    limit = f" and at most {max_chars} characters" if max_chars else ""
    request = TextRequest(
        system="You summarise business conversations faithfully, adding nothing. Answer with JSON only.",
        prompt=f"Summarise in at most {max_sentences} sentences{limit}:\n\n{text}",
        max_output_tokens=400,
        temperature=0.2,
        json_schema={
            "type": "object",
            "properties": {"sentences": {"type": "array", "items": {"type": "string"}}},
            "required": ["sentences"],
            "additionalProperties": False,
        },
        schema_name="summary",
    )
    answer = await complete(choice, request, sampled=sampled)
    sentences = [str(s) for s in _json(answer).get("sentences") or []][:max_sentences]
    joined = " ".join(sentences)
    if max_chars is not None:
        joined = joined[:max_chars]
    return SummaryView(
        summary=joined, sentences=sentences, ratio=round(len(joined) / max(len(text), 1), 3), usage=_usage(answer)
    )


async def extract(choice: TextChoice, *, text: str, schema: dict[str, Any], sampled: Sampled | None) -> ExtractionView:
    """Schema fields found in the text; a model's values are kept only when the text supports them."""
    local = text_analysis.extract_fields(text, schema)  # validates the schema in every case
    if choice.kind == "local":
        return ExtractionView(
            values=dict(local.values), missing=list(local.missing), evidence=dict(local.evidence), usage=LOCAL
        )
    request = TextRequest(
        system="You extract fields from text. Use null for anything the text does not state. Answer with JSON only.",
        prompt=f"JSON schema of the fields:\n{json.dumps(schema)}\n\nText:\n{text}",
        max_output_tokens=600,
        temperature=0.0,
        json_schema=None,
        schema_name="extraction",
    )
    answer = await complete(choice, request, sampled=sampled)
    data = _json(answer)
    values: dict[str, Any] = {}
    evidence: dict[str, str] = {}
    folded = text.casefold()
    for name, spec in schema.get("properties", {}).items():
        value = data.get(name)
        if value is None:
            continue
        options = spec.get("enum") if isinstance(spec, dict) else None
        if isinstance(options, list):
            # A choice among the schema's own options is a reading of the text, not a quoted fact: it cannot
            # appear verbatim ("over_50k" for "about 80 grand"), and anything outside the options is dropped.
            if value in options:
                values[name] = value
                evidence[name] = str(local.evidence.get(name, f"chosen from the schema's options: {value}"))
            continue
        shown = str(value).casefold()
        if shown in folded or name in local.values:  # kept only if the text says it (or local found it too)
            values[name] = value
            evidence[name] = str(local.evidence.get(name, value))
    required = [str(r) for r in schema.get("required", [])]
    return ExtractionView(
        values=values, missing=[r for r in required if r not in values], evidence=evidence, usage=_usage(answer)
    )

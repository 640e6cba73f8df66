"""Local, deterministic text analysis: lexicon sentiment, intent and topic, extractive summaries, field extraction.

Nothing here calls a model or the network; the same input always gives the same output. Matching happens on a
normal form (casefolded, accents removed) while evidence is always quoted verbatim from the caller's text.

This module is the public face; the work lives in ``text_basics`` (normal forms, language, sentences),
``sentiment``, ``classification`` (intent and topic), ``summaries`` and ``extraction``.
"""

from promptsales.domain_core.content.model.classification import DEFAULT_INTENTS, Classification, intent, topic
from promptsales.domain_core.content.model.extraction import Extraction, extract_fields
from promptsales.domain_core.content.model.sentiment import Sentiment, sentiment
from promptsales.domain_core.content.model.summaries import Summary, summarize
from promptsales.domain_core.content.model.text_basics import detect_language, sentence_spans

__all__ = [
    "DEFAULT_INTENTS",
    "Classification",
    "Extraction",
    "Sentiment",
    "Summary",
    "detect_language",
    "extract_fields",
    "intent",
    "sentence_spans",
    "sentiment",
    "summarize",
    "topic",
]

"""Extractive summaries: source sentences verbatim and in order, chosen by term frequency with a lead bonus."""

import math
import unicodedata
from collections import Counter

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model.text_basics import (
    content_words,
    normalize,
    require_text,
    sentence_spans,
    stem,
)
from promptsales.domain_core.shared.errors import ValidationFailed


class Summary(BaseModel):
    """An extractive summary: source sentences verbatim and in their original order."""

    model_config = ConfigDict(frozen=True)

    text: str
    sentences: list[str]
    ratio: float


def summarize(text: str, *, max_sentences: int = 3, max_chars: int | None = None) -> Summary:
    """Extractive summary: term-frequency scoring with a lead bonus, near-duplicates dropped, original order kept."""
    text = require_text(text)
    if not isinstance(max_sentences, int) or isinstance(max_sentences, bool) or not 1 <= max_sentences <= 50:
        raise ValidationFailed("max_sentences must be an integer from 1 to 50.", field="max_sentences")
    if max_chars is not None and (not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1):
        raise ValidationFailed("max_chars must be a positive integer or null.", field="max_chars")
    spans = sentence_spans(text)
    sentences = [text[a:b] for a, b in spans]
    bags = [[stem(w) for w in content_words(s)] for s in sentences]
    frequency = Counter(w for bag in bags for w in bag)
    peak = max(frequency.values(), default=1)
    ranked = sorted(range(len(sentences)), key=lambda i: (-_sentence_score(bags[i], frequency, peak, i), i))
    chosen: list[int] = []
    for index in ranked:
        if len(chosen) == max_sentences:
            break
        if any(_near_duplicate(bags[index], bags[other], sentences[index], sentences[other]) for other in chosen):
            continue
        trial = sorted([*chosen, index])
        if max_chars is not None and len(" ".join(sentences[i] for i in trial)) > max_chars:
            continue
        chosen = trial
    picked = [sentences[i] for i in chosen]
    if not picked and max_chars is not None and ranked:
        picked = [_prefix(sentences[ranked[0]], max_chars)]
    summary = " ".join(p for p in picked if p)
    return Summary(text=summary, sentences=[p for p in picked if p], ratio=round(len(summary) / len(text.strip()), 4))


def _sentence_score(bag: list[str], frequency: Counter[str], peak: int, index: int) -> float:
    """Mean-ish term weight (sum over sqrt of length) with a bonus for leading sentences, a penalty for fragments."""
    if not bag:
        return 0.0
    score = sum(frequency[w] / peak for w in bag) / math.sqrt(len(bag))
    score *= 1.25 if index == 0 else 1.1 if index == 1 else 1.0
    return score * (0.5 if len(bag) < 3 else 1.0)  # greetings and sign-offs ("Hi Ana,") say little


def _near_duplicate(a: list[str], b: list[str], text_a: str, text_b: str) -> bool:
    """Two sentences are near-identical when their content words overlap by 80 % or more."""
    if normalize(text_a) == normalize(text_b):
        return True
    set_a, set_b = set(a), set(b)
    if not set_a or not set_b:
        return False
    return len(set_a & set_b) / len(set_a | set_b) >= 0.8


def _prefix(sentence: str, limit: int) -> str:
    """The longest verbatim prefix of ``sentence`` within ``limit`` characters, cut at a word boundary if any."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit + 1].rfind(" ")
    if cut <= 0:
        cut = limit
        while cut > 0 and (unicodedata.combining(sentence[cut]) or sentence[cut] in "\u200d\ufe0f"):
            cut -= 1  # never leave an accent or joiner without its base character
    return sentence[:cut].rstrip(" ,;:")

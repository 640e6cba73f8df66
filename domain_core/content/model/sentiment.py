"""Lexicon sentiment (en/es): negation, intensifiers, contrast ("but"), shouting and emoji, VADER-style."""

import math
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.content.model.text_basics import (
    WORD,
    Folded,
    Language,
    detect_language,
    require_language,
    require_text,
)

_TOKEN = re.compile(r"[:;]'?-?[()dp/]|<3|\w+(?:'\w+)*|[^\w\s]")
_CLAUSE_BREAK = frozenset(".,;:!?¿¡()")
_NEGATION_DAMPING = -0.74  # VADER's convention: a negated word keeps most of its weight, flipped
_COMPOUND_ALPHA = 15.0  # squashes the raw sum into [-1, 1]; VADER's normalisation constant
_NEUTRAL_BAND = 0.05


class Sentiment(BaseModel):
    """Polarity of a text: label, compound score in [-1, 1] and the words that moved it."""

    model_config = ConfigDict(frozen=True)

    label: Literal["positive", "neutral", "negative"]
    score: float
    evidence: list[str]


def sentiment(text: str, language: str | None = None) -> Sentiment:
    """Lexicon sentiment with negation, intensifiers, contrast ("but") and emoji; language auto-detected if None."""
    text = require_text(text)
    lang = require_language(language) if language is not None else detect_language(text)
    folded = Folded.of(text)
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded.text)]
    words = lex.SENTIMENT[lang]
    if language is None:  # a guessed language may be wrong on short texts: the other lexicon fills its gaps
        words = {**lex.SENTIMENT["es" if lang == "en" else "en"], **words}
    contrast_at = max((i for i, (tok, _, _) in enumerate(tokens) if tok in lex.CONTRASTS[lang]), default=-1)
    shouting = text.upper() == text
    hits: list[tuple[int, float, str]] = []
    i = 0
    while i < len(tokens):
        length, value = _sentiment_match(tokens, i, words)
        if not length or not value:
            i += max(length, 1)
            continue
        value, first = _modify(tokens, i, value, lang)
        last = tokens[i + length - 1][2]
        original = folded.quote(tokens[i][1], last)
        if not shouting and len(original) > 1 and original.isupper():
            value *= 1.25  # shouted word, as in VADER
        hits.append((i, value, folded.quote(tokens[first][1], last)))
        i += length
    total = sum(v * (0.5 if contrast_at > idx else 1.5 if 0 <= contrast_at < idx else 1.0) for idx, v, _ in hits)
    if total:
        total *= 1 + 0.1 * min(text.count("!"), 3)
    score = max(-1.0, min(1.0, total / math.sqrt(total * total + _COMPOUND_ALPHA)))
    label: Literal["positive", "neutral", "negative"] = (
        "positive" if score >= _NEUTRAL_BAND else "negative" if score <= -_NEUTRAL_BAND else "neutral"
    )
    return Sentiment(label=label, score=round(score, 4), evidence=list(dict.fromkeys(q for _, _, q in hits)))


def _sentiment_match(tokens: Sequence[tuple[str, int, int]], i: int, words: dict[str, float]) -> tuple[int, float]:
    """Length and score of the longest lexicon phrase, word or emoji starting at token ``i`` (0 when none)."""
    for size in (4, 3, 2):
        window = [tok for tok, _, _ in tokens[i : i + size]]
        if len(window) == size and all(WORD.fullmatch(t) for t in window):
            phrase = " ".join(window)
            if phrase in words:
                return size, words[phrase]
    tok = tokens[i][0]
    for form in (tok, tok[:-1] if tok.endswith("s") else "", tok[:-2] + "z" if tok.endswith("ces") else ""):
        if form in words:
            return 1, words[form]  # plurals share the singular's score ("contentos", "felices")
    if tok in lex.EMOJI_SENTIMENT:
        return 1, lex.EMOJI_SENTIMENT[tok]
    return 0, 0.0


def _modify(tokens: Sequence[tuple[str, int, int]], i: int, value: float, lang: Language) -> tuple[float, int]:
    """Apply negators and intensifiers in the three words before token ``i``; returns the value and first token."""
    first = i
    for back in range(1, 4):
        j = i - back
        if j < 0:
            break
        tok = tokens[j][0]
        if tok in _CLAUSE_BREAK or tok in lex.CONTRASTS[lang]:
            break
        if tok in lex.NEGATORS[lang]:
            value *= _NEGATION_DAMPING
            first = j
        elif back <= 2 and tok in lex.INTENSIFIERS[lang]:
            value *= 1 + lex.INTENSIFIERS[lang][tok]
            first = min(first, j)
    return value, first

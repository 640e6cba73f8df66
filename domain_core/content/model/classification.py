"""Intent and topic classification: en/es intent patterns, or keyword overlap with a label and its synonyms."""

import re
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.content.model.text_basics import WORD, Folded, normalize, require_text, stem
from promptsales.domain_core.shared.errors import ValidationFailed

DEFAULT_INTENTS: tuple[str, ...] = (
    "purchase",
    "pricing",
    "demo_request",
    "support",
    "complaint",
    "churn_risk",
    "unsubscribe",
    "information",
    "scheduling",
    "other",
)
MAX_LABELS = 50
_OTHER_MASS = 1.0  # the "none of these" weight every label's evidence competes against


class Classification(BaseModel):
    """The winning label with its share of the evidence, every label's share, and the spans that counted."""

    model_config = ConfigDict(frozen=True)

    label: str
    confidence: float
    scores: dict[str, float]
    evidence: list[str]


def intent(text: str, labels: list[str] | None = None) -> Classification:
    """Sales intent: the default label set uses en/es patterns; custom labels are scored by keyword overlap."""
    text = require_text(text)
    chosen = list(DEFAULT_INTENTS) if labels is None else _require_labels(labels)
    folded = Folded.of(text)
    raw: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for label in chosen:
        key = normalize(label).replace(" ", "_").replace("-", "_")
        if key in lex.INTENT_PATTERNS:
            raw[label], evidence[label] = _pattern_score(folded, lex.INTENT_PATTERNS[key])
        elif key != "other":
            raw[label], evidence[label] = _keyword_score(folded, label)
    return _decide(chosen, raw, evidence)


def topic(text: str, labels: list[str]) -> Classification:
    """The topic among ``labels`` with the most keyword evidence (label words plus known synonyms)."""
    text = require_text(text)
    chosen = _require_labels(labels)
    folded = Folded.of(text)
    raw: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for label in chosen:
        if normalize(label) != "other":
            raw[label], evidence[label] = _keyword_score(folded, label)
    return _decide(chosen, raw, evidence)


def _require_labels(labels: object) -> list[str]:
    """Non-empty, unique, non-blank labels (at most MAX_LABELS), or ValidationFailed on "labels"."""
    if not isinstance(labels, list) or not labels or len(labels) > MAX_LABELS:
        raise ValidationFailed(
            f"labels must be a list of 1 to {MAX_LABELS} strings.", field="labels", hint="For example ['billing']."
        )
    seen: set[str] = set()
    for label in labels:
        if not isinstance(label, str) or not label.strip() or normalize(label) in seen:
            raise ValidationFailed(
                "labels must be distinct, non-empty strings.", field="labels", hint=f"Check the label {label!r}."
            )
        seen.add(normalize(label))
    return list(labels)


def _counted(weight: float, count: int) -> float:
    """Repeats add a little, capped, so one word said five times does not outvote three different cues."""
    return weight * (1 + 0.25 * (min(count, 3) - 1))


def _pattern_score(folded: Folded, patterns: Iterable[tuple[str, float]]) -> tuple[float, list[str]]:
    """Sum of the weights of the patterns found in the folded text, with their verbatim matches."""
    score = 0.0
    evidence: list[str] = []
    seen: set[tuple[int, int]] = set()  # the en and es lists share words ("error"): a span counts once
    for pattern, weight in patterns:
        found = [m for m in re.finditer(pattern, folded.text) if m.span() not in seen]
        if found:
            seen.update(m.span() for m in found)
            score += _counted(weight, len(found))
            evidence.append(folded.quote(found[0].start(), found[0].end()))
    return score, list(dict.fromkeys(evidence))


def _label_terms(label: str) -> tuple[dict[str, float], tuple[str, ...]]:
    """The stems (with weights) and multi-word phrases that speak for ``label``."""
    stems: dict[str, float] = {}
    phrases: list[str] = []
    words = [w for w in re.split(r"[\s_\-/]+", normalize(label)) if w]
    significant = [w for w in words if w not in lex.STOPWORDS["en"] and w not in lex.STOPWORDS["es"]] or words
    for word in significant:
        stems[stem(word)] = 1.0
        for key, synonyms in lex.TOPIC_SYNONYMS.items():
            if stem(key) == stem(word):
                weight = 0.8
            elif any(stem(s) == stem(word) for s in synonyms):
                weight = 0.6  # the label names a member of a group: the group is weaker evidence
            else:
                continue
            for synonym in (key, *synonyms):
                if " " in synonym:
                    phrases.append(synonym)
                else:
                    stems.setdefault(stem(synonym), weight)
    return stems, tuple(dict.fromkeys(phrases))


def _keyword_score(folded: Folded, label: str) -> tuple[float, list[str]]:
    """Keyword overlap between the text and the label's words and synonyms."""
    stems, phrases = _label_terms(label)
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for match in WORD.finditer(folded.text):
        key = stem(match.group())
        if key in stems:
            counts[key] += 1
            first.setdefault(key, folded.quote(match.start(), match.end()))
    score = sum(_counted(stems[key], n) for key, n in counts.items())
    evidence = list(first.values())
    for phrase in phrases:
        found = list(re.finditer(rf"\b{re.escape(phrase)}\b", folded.text))
        if found:
            score += _counted(1.0, len(found))
            evidence.append(folded.quote(found[0].start(), found[0].end()))
    return score, evidence


def _decide(labels: list[str], raw: dict[str, float], evidence: dict[str, list[str]]) -> Classification:
    """Shares of evidence against a fixed "none of these" mass; "other" wins when nothing clearly does."""
    total = sum(raw.values())
    scores = {label: round(raw.get(label, 0.0) / (total + _OTHER_MASS), 4) for label in labels}
    other = next((label for label in labels if normalize(label) == "other"), None)
    if other is not None:
        scores[other] = round(_OTHER_MASS / (total + _OTHER_MASS), 4)
    candidates = [label for label in labels if raw.get(label, 0.0) > 0]
    if not candidates:
        return Classification(
            label=other or "other", confidence=scores[other] if other else 0.0, scores=scores, evidence=[]
        )
    best = max(candidates, key=lambda label: (raw[label], -labels.index(label)))
    if other is not None and scores[other] > scores[best]:
        return Classification(label=other, confidence=scores[other], scores=scores, evidence=[])
    return Classification(label=best, confidence=scores[best], scores=scores, evidence=evidence.get(best, []))

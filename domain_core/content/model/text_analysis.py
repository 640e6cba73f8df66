"""Local, deterministic text analysis: lexicon sentiment, intent and topic, extractive summaries, field extraction.

Nothing here calls a model or the network; the same input always gives the same output. Matching happens on a
normal form (casefolded, accents removed) while evidence is always quoted verbatim from the caller's text.
"""

import bisect
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.shared.errors import ValidationFailed

Language = Literal["en", "es"]
SUPPORTED_LANGUAGES: tuple[Language, ...] = ("en", "es")
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
MAX_TEXT_CHARS = 200_000
MAX_LABELS = 50

_TOKEN = re.compile(r"[:;]'?-?[()dp/]|<3|\w+(?:'\w+)*|[^\w\s]")
_WORD = re.compile(r"\w+(?:'\w+)*")
_CLAUSE_BREAK = frozenset(".,;:!?¿¡()")
_NEGATION_DAMPING = -0.74  # VADER's convention: a negated word keeps most of its weight, flipped
_COMPOUND_ALPHA = 15.0  # squashes the raw sum into [-1, 1]; VADER's normalisation constant
_NEUTRAL_BAND = 0.05
_OTHER_MASS = 1.0  # the "none of these" weight every label's evidence competes against
_SUFFIXES = ("aciones", "iciones", "ations", "mente", "ation", "acion", "icion", "ments", "ment", "ness", "ing",
             "ions", "ion", "ate", "ar", "er", "ir", "ed")  # fmt: skip


class Sentiment(BaseModel):
    """Polarity of a text: label, compound score in [-1, 1] and the words that moved it."""

    model_config = ConfigDict(frozen=True)

    label: Literal["positive", "neutral", "negative"]
    score: float
    evidence: list[str]


class Classification(BaseModel):
    """The winning label with its share of the evidence, every label's share, and the spans that counted."""

    model_config = ConfigDict(frozen=True)

    label: str
    confidence: float
    scores: dict[str, float]
    evidence: list[str]


class Summary(BaseModel):
    """An extractive summary: source sentences verbatim and in their original order."""

    model_config = ConfigDict(frozen=True)

    text: str
    sentences: list[str]
    ratio: float


# --------------------------------------------------------------------------- shared text helpers


def normalize(text: str) -> str:
    """The matching form of ``text``: casefolded, accents removed, typographic apostrophes straightened."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("\u2019", "'").replace("\u2018", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Folded:
    """A normal form of a text that remembers where each of its characters came from."""

    source: str
    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, source: str) -> "Folded":
        """Fold ``source`` character by character, keeping the offset map."""
        chars: list[str] = []
        origin: list[int] = []
        for index, ch in enumerate(source):
            for out in normalize(ch):
                chars.append(out)
                origin.append(index)
        return cls(source, "".join(chars), tuple(origin))

    def start(self, index: int) -> int:
        """The source offset where folded character ``index`` begins."""
        return self.origin[index] if index < len(self.origin) else len(self.source)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source offsets covering folded characters ``start:end``."""
        if start >= end:
            return self.start(start), self.start(start)
        return self.origin[start], self.origin[end - 1] + 1

    def quote(self, start: int, end: int) -> str:
        """The verbatim source text behind folded characters ``start:end``."""
        a, b = self.span(start, end)
        return self.source[a:b]


def stem(word: str) -> str:
    """A crude en/es stem so that "invoices", "invoicing" and "facturación"/"factura" meet their label."""
    word = normalize(word)
    if len(word) > 4 and word.endswith("es") and not word.endswith("ss"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] in "aeo":
        word = word[:-1]
    return word


def require_text(text: object, field: str = "text") -> str:
    """``text`` as a non-empty string within the size limit, or ValidationFailed naming ``field``."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(f"{field} must be a non-empty string.", field=field, hint="Pass the text to analyse.")
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(
            f"{field} is longer than {MAX_TEXT_CHARS} characters.", field=field, hint="Split it and analyse parts."
        )
    return text


def require_language(language: str) -> Language:
    """``language`` if it is supported, else ValidationFailed listing the supported ones."""
    for supported in SUPPORTED_LANGUAGES:
        if language == supported:
            return supported
    raise ValidationFailed(
        f"Language '{language}' is not supported.",
        field="language",
        hint=f"Supported languages: {', '.join(SUPPORTED_LANGUAGES)}.",
    )


def detect_language(text: str) -> Language:
    """Guess en or es from stopwords and Spanish-only characters; English on a tie."""
    words = _WORD.findall(normalize(text))
    votes = {
        lang: sum(w in lex.STOPWORDS[lang] or w in lex.LANGUAGE_HINTS[lang] for w in words) for lang in ("en", "es")
    }
    votes["es"] += 2 * sum(text.count(ch) for ch in "ñÑ¿¡") + sum(text.count(ch) for ch in "áéíóúÁÉÍÓÚ")
    return "es" if votes["es"] > votes["en"] else "en"


def content_words(text: str, language: Language | None = None) -> list[str]:
    """The normalised words of ``text`` that are not stopwords (both languages when ``language`` is None)."""
    stop = lex.STOPWORDS[language] if language else lex.STOPWORDS["en"] | lex.STOPWORDS["es"]
    return [w for w in _WORD.findall(normalize(text)) if w not in stop and not w.isdigit() and len(w) > 1]


# --------------------------------------------------------------------------- sentiment


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
        if len(window) == size and all(_WORD.fullmatch(t) for t in window):
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


# --------------------------------------------------------------------------- intent and topic


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
    for match in _WORD.finditer(folded.text):
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


# --------------------------------------------------------------------------- summaries

_LIST_MARKER = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'\u201d\u2019»)\]]*(?=\s+)")
_STARTS_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018«(¿¡]?[\w]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Source offsets of each sentence: lines, list items and punctuation, minding abbreviations and decimals."""
    spans: list[tuple[int, int]] = []
    for start, end in _blocks(text):
        cursor = start
        for match in _SENTENCE_END.finditer(text, start, end):
            before = text[cursor : match.start()].split()
            last_word = normalize(before[-1]).rstrip(".") if before else ""
            if match.group().startswith(".") and (
                last_word in lex.ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
            ):
                continue
            following = _STARTS_SENTENCE.match(text, match.end(), end)
            if following is None or following.group()[-1].islower():
                continue
            spans.append((cursor, match.end()))
            cursor = match.end()
        spans.append((cursor, end))
    return [_strip_span(text, a, b) for a, b in spans if text[a:b].strip()]


def _blocks(text: str) -> list[tuple[int, int]]:
    """Line-based blocks: a line break ends a block unless the next line plainly continues the sentence."""
    blocks: list[tuple[int, int]] = []
    offset = 0
    block_start: int | None = None
    previous = ""
    for line in text.splitlines(keepends=True):
        body = line.strip()
        line_start, offset = offset, offset + len(line)
        if not body:
            if block_start is not None:
                blocks.append((block_start, line_start))
            block_start = None
            continue
        continues = (
            block_start is not None
            and not _LIST_MARKER.match(line)
            and body[0].islower()
            and previous[-1:] not in ".!?:;"
        )
        if not continues:
            if block_start is not None:
                blocks.append((block_start, line_start))
            block_start = line_start
        previous = body
    if block_start is not None:
        blocks.append((block_start, len(text)))
    return blocks


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


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


# --------------------------------------------------------------------------- field extraction

JsonScalar = str | int | float | bool
JsonValue = JsonScalar | list[JsonScalar]

_TYPES = ("string", "number", "integer", "boolean", "array")
_FORMATS = ("email", "date", "date-time", "uri", "phone")
_SCHEMA_HINT = (
    'Supported: {"type": "object", "properties": {"<name>": {"type": "string|number|integer|boolean|array", '
    '"format": "email|date|date-time|uri|phone", "enum": [...], "description": "..."}}, "required": [...]}; '
    "array items must be scalars; nested objects are not supported."
)
_FORMAT_WORDS = {
    "email": frozenset({"email", "correo", "mail"}),
    "phone": frozenset({"phone", "telefono", "tel", "movil", "celular", "mobile", "whatsapp"}),
    "uri": frozenset({"url", "website", "web", "sitio", "link", "enlace"}),
    "date": frozenset({"date", "fecha", "deadline", "birthday", "dia"}),
}
_NAME_WORDS = frozenset({"name", "nombre"})
_MONEY_STEMS = frozenset(stem(w) for w in lex.MONEY_WORDS)
_PERCENT_STEMS = frozenset(stem(w) for w in lex.PERCENT_WORDS)
_MONTH = "|".join(sorted(lex.MONTHS, key=len, reverse=True))
_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_MULT = r"(?:\s?(?:k|mm|m|bn)(?!\w)|\s(?:mil|millones|millon|millions|million|thousand|grand)(?!\w))?"
_MULTIPLIERS = {"k": 1e3, "mil": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6,
                "millions": 1e6, "millon": 1e6, "millones": 1e6, "bn": 1e9}  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+")
_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/[^\s]*)?")
_DATES = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])"),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|º|°)?\s+(?:of\s+|de\s+)?(?P<mn>{_MONTH})\b\.?,?\s+(?:de\s+|del\s+)?"
        r"(?P<y>\d{4})\b"
    ),
    re.compile(rf"\b(?P<mn>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?:de\s+)?(?P<y>\d{{4}})\b"),
    re.compile(r"\b(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})\b"),
)
_TIME_AFTER = re.compile(
    r"(?:\s*,)?\s*(?:at|a las|a la|@|t|-)?\s*(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::(?P<s>\d{2}))?"
    r"\s*(?P<ap>a\.?m\.?|p\.?m\.?|h|hrs|hs)?(?P<tz>z|utc|[+-]\d{2}:?\d{2})?(?!\w)"
)
_TIMES = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b|\b\d{1,2}\s?(?:am|pm|a\.m\.|p\.m\.)")
_MONEY = re.compile(
    rf"(?<![\w.,])(?:(?P<c1>us\$|\$|€|£|usd|eur|mxn|gbp|cop|clp)\s?(?P<n1>{_NUM})(?P<m1>{_MULT})"
    rf"|(?P<n2>{_NUM})(?P<m2>{_MULT})\s?(?:de\s)?(?P<c2>\$|€|£|usd|eur|mxn|gbp|dolares|dollars|euros|pesos))(?!\w)"
)
_PERCENT = re.compile(rf"(?<![\w.,])(?P<n1>{_NUM})\s?(?:%|percent|per cent|por ciento)")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \t().-]{5,20}\d(?!\w)")
_NUMBER = re.compile(rf"(?<![\w.,])(?P<n1>{_NUM})(?P<m1>k|m)?(?![\w%])")
_LABEL = re.compile(
    r"(?:^|(?<=[;|,(]))\s*(?:[-*•·>]\s*)?(?P<label>[^\W\d_][^:;|,\n]{0,40}?)\s*(?::\s+|:$|\s[-\u2013=]\s)"
)
_PERSON = re.compile(
    r"\b(?:[Mm]y name is|I am|I'm|[Tt]his is|[Mm]e llamo|[Mm]i nombre es|[Ss]oy)\s+"
    r"(?P<v>[A-ZÁÉÍÓÚÑ][\w'-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w'-]+){0,2})"
)


class Extraction(BaseModel):
    """Values found for a schema's properties, required ones not found, and the verbatim span behind each value."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, JsonValue]
    missing: list[str]
    evidence: dict[str, str]


@dataclass(frozen=True)
class _Prop:
    """One schema property, checked, with the stems that name it."""

    name: str
    type: str
    format: str | None
    enum: tuple[JsonScalar, ...]
    name_terms: frozenset[str]
    named_by: frozenset[str]  # name words and their synonyms: a label saying these is the strongest match
    terms: frozenset[str]


@dataclass(frozen=True)
class _Cand:
    """A typed value found in the text at source offsets ``start:end``."""

    kind: str
    start: int
    end: int
    value: JsonScalar
    text: str


def extract_fields(text: str, schema: dict[str, object]) -> Extraction:
    """Fill a JSON-Schema object from the text: labelled lines, formats, enums and yes/no answers; never guesses."""
    text = require_text(text)
    props, required = _parse_schema(schema)
    doc = _Doc(text)
    found: dict[str, tuple[JsonValue, str]] = {}
    claimed: set[tuple[int, int]] = set()
    read_whole: set[tuple[int, int]] = set()  # spans a text or yes/no field took as a whole
    for prop, span in _label_matches(doc, props):
        whole = _reads_whole_span(prop)
        if prop.name in found or (whole and span in read_whole):
            continue
        result = _from_span(doc, prop, *span, claimed)
        if result is not None:
            found[prop.name] = result
            if whole:
                read_whole.add(span)
    for prop in props:
        if prop.name not in found:
            result = _from_text(doc, prop, claimed)
            if result is not None:
                found[prop.name] = result
    values = {p.name: found[p.name][0] for p in props if p.name in found}
    return Extraction(
        values=values,
        missing=[name for name in required if name not in values],
        evidence={name: found[name][1] for name in values},
    )


def _parse_schema(schema: object) -> tuple[list[_Prop], list[str]]:
    """Check the schema against the supported subset and turn its properties into ``_Prop``."""
    if not isinstance(schema, dict):
        raise ValidationFailed("schema must be a JSON Schema object.", field="schema", hint=_SCHEMA_HINT)
    if schema.get("type", "object") != "object":
        raise ValidationFailed('schema "type" must be "object".', field="schema", hint=_SCHEMA_HINT)
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise ValidationFailed("schema.properties must be a non-empty object.", field="schema", hint=_SCHEMA_HINT)
    required = schema.get("required", [])
    if not isinstance(required, list) or any(not isinstance(r, str) or r not in properties for r in required):
        raise ValidationFailed(
            "schema.required must list names of schema.properties.", field="schema", hint=_SCHEMA_HINT
        )
    return [_parse_property(name, spec) for name, spec in properties.items()], list(required)


def _parse_property(name: object, spec: object) -> _Prop:
    """One property: a scalar type or an array of scalars, with optional format, enum and description."""
    if not isinstance(name, str) or not name.strip() or not isinstance(spec, dict):
        raise ValidationFailed(f"schema property {name!r} must be an object.", field="schema", hint=_SCHEMA_HINT)
    kind = _declared_type(name, spec)
    items = spec.get("items", {}) if kind == "array" else spec
    if not isinstance(items, dict):
        raise ValidationFailed(f"schema property '{name}': items must be an object.", field="schema")
    item_kind = _declared_type(name, items) if kind == "array" else kind
    if item_kind in ("array", "object"):
        raise ValidationFailed(
            f"schema property '{name}': arrays must hold scalars.", field="schema", hint=_SCHEMA_HINT
        )
    fmt, enum = items.get("format"), items.get("enum", [])
    if fmt is not None and (fmt not in _FORMATS or item_kind != "string"):
        raise ValidationFailed(
            f"schema property '{name}': format {fmt!r} is not supported.", field="schema", hint=_SCHEMA_HINT
        )
    if not isinstance(enum, list) or any(isinstance(v, dict | list) or v is None for v in enum):
        raise ValidationFailed(f"schema property '{name}': enum must list scalars.", field="schema", hint=_SCHEMA_HINT)
    description = spec.get("description", "")
    words = [w for w in re.split(r"[_\-\s.]+|(?<=[a-z])(?=[A-Z])", name) if w]
    stop = lex.STOPWORDS["en"] | lex.STOPWORDS["es"]
    name_terms = frozenset(stem(w) for w in words if normalize(w) not in stop) or frozenset(stem(w) for w in words)
    described = content_words(description) if isinstance(description, str) else []
    named_by = _with_synonyms(words)
    terms = named_by | _with_synonyms(described)
    if fmt is None and item_kind == "string" and not enum:
        fmt = next((f for f, ws in _FORMAT_WORDS.items() if {normalize(w) for w in words} & ws), None)
    kind = kind if kind != "array" else f"array:{item_kind}"
    return _Prop(name, kind, fmt, tuple(enum), name_terms, named_by, terms)


def _with_synonyms(words: Iterable[str]) -> frozenset[str]:
    """Stems of ``words`` plus those of every field-synonym group they belong to ("nombre" reaches "name")."""
    stems = {stem(w) for w in words}
    for key, synonyms in lex.FIELD_SYNONYMS.items():
        group = (key, *synonyms)
        if any(stem(member) in stems for member in group):
            stems.update(stem(s) for phrase in group for s in _WORD.findall(phrase))
    return frozenset(stems)


def _declared_type(name: str, spec: dict[str, object]) -> str:
    """The property's single non-null type, inferred from its enum when absent."""
    declared = spec.get("type")
    if isinstance(declared, list):
        rest = [t for t in declared if t != "null"]
        declared = rest[0] if len(rest) == 1 else None
    if declared is None and isinstance(spec.get("enum"), list) and spec["enum"]:
        values = spec["enum"]
        assert isinstance(values, list)
        declared = (
            "boolean"
            if all(isinstance(v, bool) for v in values)
            else ("number" if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) else "string")
        )
    if declared not in _TYPES:
        raise ValidationFailed(
            f"schema property '{name}': type {declared!r} is not supported.", field="schema", hint=_SCHEMA_HINT
        )
    assert isinstance(declared, str)
    return declared


class _Doc:
    """The text with its typed candidates (emails, dates, amounts...), word positions and labelled spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = Folded.of(text)
        self.language = detect_language(text)
        self.lines = _line_spans(text)
        self._line_starts = [start for start, _ in self.lines]
        self.words = [
            (stem(m.group()), *self.folded.span(m.start(), m.end())) for m in _WORD.finditer(self.folded.text)
        ]
        self._word_starts = [start for _, start, _ in self.words]
        self.candidates: list[_Cand] = []
        self._owner: list[str | None] = [None] * len(text)  # which kind of candidate first claimed each character
        self._scan()

    def line_of(self, offset: int) -> int:
        """Index of the line holding source offset ``offset``."""
        return max(0, bisect.bisect_right(self._line_starts, offset) - 1)

    def _add(self, kind: str, fstart: int, fend: int, value: JsonScalar | None, beside: str = "") -> None:
        """Keep a candidate unless an earlier, more specific one (other than kind ``beside``) covers its text."""
        start, end = self.folded.span(fstart, fend)
        if value is None or any(owner is not None and owner != beside for owner in self._owner[start:end]):
            return
        for index in range(start, end):
            self._owner[index] = self._owner[index] or kind
        self.candidates.append(_Cand(kind, start, end, value, self.text[start:end]))

    def _scan(self) -> None:
        """Find candidates, most specific kinds first, so a date's digits never read as a phone or a number."""
        folded = self.folded.text
        for m in _EMAIL.finditer(folded):
            self._add("email", m.start(), m.end(), self.folded.quote(m.start(), m.end()))
        for m in _URL.finditer(folded):
            end = m.end() - len(m.group()) + len(m.group().rstrip(".,;:!?"))
            self._add("uri", m.start(), end, self.folded.quote(m.start(), end))
        for pattern in _DATES:
            for m in pattern.finditer(folded):
                self._add_date(m)
        for m in _TIMES.finditer(folded):
            self._add("time", m.start(), m.end(), m.group())
        for kind, pattern in (("money", _MONEY), ("percent", _PERCENT)):
            for m in pattern.finditer(folded):
                number, mult = m.group("n1") or m.group("n2"), m.groupdict().get("m1") or m.groupdict().get("m2")
                self._add(kind, m.start(), m.end(), _to_number(number, mult))
        for m in _PHONE.finditer(folded):
            self._add("phone", m.start(), m.end(), _phone(m.group()))
        for m in _NUMBER.finditer(folded):
            self._add("number", m.start(), m.end(), _to_number(m.group("n1"), m.group("m1")))

    def _add_date(self, m: re.Match[str]) -> None:
        """A valid calendar date (day/month order from the language when ambiguous) and its date-time if timed."""
        parts = m.groupdict()
        if parts.get("mn"):
            day, month = int(parts["d"]), lex.MONTHS[parts["mn"]]
        elif parts.get("a"):
            a, b = int(parts["a"]), int(parts["b"])
            day_first = a > 12 or (b <= 12 and self.language == "es")
            day, month = (a, b) if day_first else (b, a)
        else:
            day, month = int(parts["d"]), int(parts["m"])
        try:
            when = date(int(parts["y"]), month, day)
        except ValueError:
            return
        time = _TIME_AFTER.match(self.folded.text, m.end())
        stamp = _clock(time) if time and (time.group("mi") or time.group("ap")) else None
        if time and stamp:
            self._add("date-time", m.start(), time.end(), f"{when.isoformat()}T{stamp}")
        self._add("date", m.start(), m.end(), when.isoformat(), beside="date-time")

    def of_kind(self, kind: str, within: tuple[int, int] | None = None) -> list[_Cand]:
        """Candidates of one kind, optionally only those inside a source span."""
        found = [c for c in self.candidates if c.kind == kind]
        return found if within is None else [c for c in found if within[0] <= c.start and c.end <= within[1]]

    def distance(self, terms: frozenset[str], cand: _Cand) -> int | None:
        """Characters between the candidate and the nearest word naming the property on its line (None: too far)."""
        best: int | None = None
        line = self.line_of(cand.start)
        low = bisect.bisect_left(self._word_starts, cand.start - 80)
        high = bisect.bisect_right(self._word_starts, cand.end + 80)
        for word, start, end in self.words[low:high]:
            if word not in terms or self.line_of(start) != line:
                continue
            gap = cand.start - end if end <= cand.start else (start - cand.end + 10 if start >= cand.end else 0)
            if gap <= 60 and (best is None or gap < best):
                best = gap
        return best


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Source offsets of each line."""
    spans, offset = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((offset, offset + len(line)))
        offset += len(line)
    return spans


def _clock(time: re.Match[str]) -> str | None:
    """HH:MM:SS (plus zone) from a time match, or None when it is not a valid time of day."""
    hour, minute, second = int(time.group("h")), int(time.group("mi") or 0), int(time.group("s") or 0)
    meridiem = (time.group("ap") or "").replace(".", "")
    if meridiem in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = time.group("tz") or ""
    zone = "Z" if zone in ("z", "utc") else (f"{zone[:3]}:{zone[-2:]}" if zone else "")
    return f"{hour:02d}:{minute:02d}:{second:02d}{zone}"


def _to_number(number: str, multiplier: str | None) -> int | float | None:
    """A number written with either decimal convention ("1,234.5", "1.234,5", "20k", "1,5 millones")."""
    s = number
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        parts = s.split(sep)
        grouped = len(parts) > 2 or (len(parts[-1]) == 3 and parts[0] not in ("0", ""))
        s = s.replace(sep, "") if grouped else s.replace(sep, ".")
    try:
        value = round(float(s) * _MULTIPLIERS.get((multiplier or "").strip(), 1.0), 6)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _phone(raw: str) -> str | None:
    """A phone number as "+digits" or digits, or None when the span is more likely an amount, id or year list."""
    digits = re.sub(r"\D", "", raw)
    separated = re.search(r"[ \t().-]", raw) is not None
    if not 7 <= len(digits) <= 15 or re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return None
    if not raw.startswith("+") and not separated and len(digits) < 10:
        return None
    return ("+" if raw.startswith("+") else "") + digits


def _label_matches(doc: _Doc, props: list[_Prop]) -> list[tuple[_Prop, tuple[int, int]]]:
    """(property, "label: value" span) pairs whose label names the property, best match first."""
    # A label made of the property's own name words (or their synonyms) beats one matching only its description.
    pairs: list[tuple[tuple[float, float, float, int], _Prop, tuple[int, int]]] = []
    for line_start, line_end in doc.lines:
        line = doc.text[line_start:line_end].rstrip("\r\n")
        matches = list(_LABEL.finditer(line))
        for n, m in enumerate(matches):
            value_end = matches[n + 1].start() if n + 1 < len(matches) else len(line)
            label_words = [stem(w) for w in content_words(m.group("label"))] or [
                stem(w) for w in _WORD.findall(normalize(m.group("label")))
            ]
            span = _strip_span(doc.text, line_start + m.end(), line_start + value_end)
            span = (span[0], span[0] + len(doc.text[span[0] : span[1]].rstrip(" ,;|.")))
            if not label_words or len(label_words) > 5 or span[1] <= span[0]:
                continue
            for prop in props:
                coverage = sum(w in prop.terms for w in label_words) / len(label_words)
                if coverage >= 0.5:
                    by_name = sum(w in prop.named_by for w in label_words) / len(label_words)
                    jaccard = len(set(label_words) & prop.name_terms) / len(set(label_words) | prop.name_terms)
                    pairs.append(((by_name, coverage, jaccard, -span[0]), prop, span))
    return [(prop, span) for _, prop, span in sorted(pairs, key=lambda p: p[0], reverse=True)]


def _reads_whole_span(prop: _Prop) -> bool:
    """Whether the property's value is the labelled text itself rather than a typed value found inside it."""
    return not prop.enum and prop.format is None and prop.type in ("string", "boolean", "array:string")


def _from_span(
    doc: _Doc, prop: _Prop, start: int, end: int, claimed: set[tuple[int, int]]
) -> tuple[JsonValue, str] | None:
    """The property's value read from a labelled span (its typed candidates, its words, or the span itself)."""
    value_text = doc.text[start:end]
    kind = prop.type.removeprefix("array:")
    if prop.type.startswith("array:"):
        items = _array_items(doc, prop, kind, (start, end))
        return (items, value_text) if items else None
    if kind == "boolean":
        first = _WORD.findall(normalize(value_text))[:1]
        answer = _yes_no(first[0]) if first else None
        return (answer, value_text) if answer is not None else None
    if prop.enum:
        mentions = _enum_mentions(doc, prop, (start, end))
        return (mentions[0].value, mentions[0].text) if mentions else None
    if kind in ("number", "integer"):
        for cand in [c for k in _number_kinds(prop) for c in doc.of_kind(k, (start, end))]:
            value = _as_number(cand.value, kind) if (cand.start, cand.end) not in claimed else None
            if value is not None:
                claimed.add((cand.start, cand.end))
                return value, cand.text
        return None
    if prop.format is not None:
        inside = [c for c in doc.of_kind(prop.format, (start, end)) if (c.start, c.end) not in claimed]
        if inside:
            claimed.add((inside[0].start, inside[0].end))
            return inside[0].value, inside[0].text
        domain = _DOMAIN.fullmatch(value_text) if prop.format == "uri" else None
        return (value_text, value_text) if domain else None
    typed = [c.start for c in doc.candidates if start <= c.start < end and c.kind in ("email", "phone", "uri")]
    if typed:  # "Contacto: María López, correo maria@x.es": the name ends at the last separator before the email
        before = doc.text[start : min(typed)]
        cut = max(before.rfind(","), before.rfind(";"), before.rfind("|"))
        value_text = (before[:cut] if cut > 0 else before).rstrip(" ,;:-|") or value_text
    return (value_text, value_text) if 0 < len(value_text) <= 500 else None


def _from_text(doc: _Doc, prop: _Prop, claimed: set[tuple[int, int]]) -> tuple[JsonValue, str] | None:
    """The property's value from free text: the typed candidate nearest to words naming it, or the only one."""
    kind = prop.type.removeprefix("array:")
    if prop.type.startswith("array:"):
        items = _array_items(doc, prop, kind, None)
        return (items, ", ".join(str(i) for i in items)) if items and (prop.enum or prop.format) else None
    if kind == "boolean":
        return _stated_yes_no(doc, prop)
    if prop.enum:
        mentions = _enum_mentions(doc, prop, None)
        near = _nearest(doc, prop, mentions)
        if near is None and len({m.value for m in mentions}) == 1:
            near = mentions[0]
        return (near.value, near.text) if near else None
    if kind in ("number", "integer"):
        kinds = _number_kinds(prop)
        pool = [c for k in kinds for c in doc.of_kind(k) if (c.start, c.end) not in claimed]
        chosen = _nearest(doc, prop, pool)
        special = [c for c in pool if c.kind == kinds[0] != "number"]
        if chosen is None and len(special) == 1:
            chosen = special[0]  # the only amount (or percentage) in the text, for a money (or percent) field
        value = _as_number(chosen.value, kind) if chosen else None
        if chosen is None or value is None:
            return None
        claimed.add((chosen.start, chosen.end))
        return value, chosen.text
    if prop.format is not None:
        pool = [c for c in doc.of_kind(prop.format) if (c.start, c.end) not in claimed]
        chosen = _nearest(doc, prop, pool)
        if chosen is None and pool and (prop.format in ("email", "phone", "uri") or len(pool) == 1):
            chosen = pool[0]
        if chosen is None:
            return None
        claimed.add((chosen.start, chosen.end))
        return chosen.value, chosen.text
    if prop.name_terms & {stem(w) for w in _NAME_WORDS}:
        person = _PERSON.search(doc.text)
        if person:
            return person.group("v"), person.group("v")
    return None


def _number_kinds(prop: _Prop) -> tuple[str, ...]:
    """Which numeric candidates fit a property, most specific first."""
    if prop.terms & _PERCENT_STEMS:
        return ("percent", "number")
    if prop.terms & _MONEY_STEMS:
        return ("money", "number")
    return ("number",)


def _as_number(value: JsonScalar, kind: str) -> int | float | None:
    """A numeric candidate coerced to the schema type (an integer field refuses fractions rather than rounding)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if kind == "integer":
        return int(value) if float(value).is_integer() else None
    return value


def _nearest(doc: _Doc, prop: _Prop, pool: list[_Cand]) -> _Cand | None:
    """The candidate closest to a word naming the property on the same line."""
    scored = [(d, c.start, c) for c in pool if (d := doc.distance(prop.terms, c)) is not None]
    return min(scored, key=lambda s: (s[0], s[1]))[2] if scored else None


def _enum_mentions(doc: _Doc, prop: _Prop, within: tuple[int, int] | None) -> list[_Cand]:
    """Where the text names one of the property's enum values (or a known translation), in text order."""
    found: list[_Cand] = []
    for value in prop.enum:
        key = normalize(str(value)).replace("_", " ").replace("-", " ")
        for form in {key, *lex.ENUM_SYNONYMS.get(key, ())}:
            pattern = r"[\s_-]+".join(re.escape(w) for w in form.split())
            for m in re.finditer(rf"(?<![\w$€£]){pattern}(?!\w)", doc.folded.text):
                start, end = doc.folded.span(m.start(), m.end())
                if within is None or (within[0] <= start and end <= within[1]):
                    found.append(_Cand("enum", start, end, value, doc.text[start:end]))
    return sorted(found, key=lambda c: (c.start, -c.end))


def _array_items(doc: _Doc, prop: _Prop, kind: str, within: tuple[int, int] | None) -> list[JsonScalar]:
    """Items for an array property: every typed candidate or enum mention, else the span split on separators."""
    if prop.enum:
        return list(dict.fromkeys(m.value for m in _enum_mentions(doc, prop, within)))
    if prop.format is not None:
        return list(dict.fromkeys(c.value for c in doc.of_kind(prop.format, within)))
    if within is None:
        return []
    if kind in ("number", "integer"):
        numbers = [_as_number(c.value, kind) for k in _number_kinds(prop) for c in doc.of_kind(k, within)]
        return [n for n in numbers if n is not None]
    pieces = re.split(r"\s*(?:[,;/]|\band\b|\by\b|&)\s*", doc.text[within[0] : within[1]])
    if kind == "boolean":
        answers = [_yes_no(normalize(p)) for p in pieces if p]
        return [a for a in answers if a is not None]
    return list(dict.fromkeys(p for p in pieces if p))


def _yes_no(word: str) -> bool | None:
    """True/False for a yes/no word (en + es), None for anything else."""
    return True if word in lex.YES_WORDS else False if word in lex.NO_WORDS else None


def _stated_yes_no(doc: _Doc, prop: _Prop) -> tuple[JsonValue, str] | None:
    """A yes/no said right after the words naming a boolean property ("Budget approved? Yes")."""
    need = max(1, math.ceil(len(prop.name_terms) / 2))
    for line_start, line_end in doc.lines:
        named = [(s, e, w) for w, s, e in doc.words if w in prop.terms and line_start <= s < line_end]
        if len({w for _, _, w in named}) < need:
            continue
        after = re.match(r"[\s?:\-\u2013=]{0,4}(\w+)", doc.text[named[-1][1] : line_end])
        answer = _yes_no(normalize(after.group(1))) if after else None
        if after and answer is not None:
            return answer, doc.text[named[0][0] : named[-1][1] + after.end()].strip()
    return None

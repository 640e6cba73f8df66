"""A brand kit's copy rules and where a text breaks them: banned words, claims, required phrases, shouting, emoji.

Terms match case- and accent-insensitively on whole words; see ``copy_lint`` for the decisions behind it.
"""

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field

from promptsales.domain_core.content.model.channel_specs import FieldSpec
from promptsales.domain_core.content.model.claims import CLAIMS, NOT_CLAIMS
from promptsales.domain_core.content.model.text_measure import clusters, is_emoji, nfc

# Carrier opt-out keywords are conventionally written in capitals; lower-casing them would break compliance.
ALWAYS_ALLOWED_CAPS = frozenset({"STOP", "HELP", "BAJA"})
ALL_CAPS_MIN_LETTERS = 4
# Emoji per field item when the brand kit sets no limit: one or two accent a line, a row of them is noise.
DEFAULT_MAX_EMOJI = 2

_WORD = regex.compile(r"\p{L}+")
_WHITESPACE = regex.compile(r"\s+")
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"}


class BrandRules(BaseModel):
    """The tenant brand kit's copy rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    banned_words: list[str] = Field(default_factory=list)
    required_phrases: list[str] = Field(default_factory=list, description="Disclaimers that must appear.")
    substantiated_claims: list[str] = Field(default_factory=list, description="Claims the brand can prove.")
    max_emoji: int | None = Field(default=None, ge=0, description="Per field item.")
    allow_all_caps_words: list[str] = Field(default_factory=list, description="Acronyms such as AI or CRM.")


@dataclass(frozen=True)
class Hit:
    """A match in the original text: ``[start, end)`` with what matched and, for claims, the softer wording."""

    start: int
    end: int
    term: str
    replacement: str = ""


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    char = _APOSTROPHES.get(char, char)
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(part for part in decomposed if not unicodedata.combining(part)).casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """Case- and accent-free text plus, for each folded character, the index of its source character."""
    parts: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        index.extend([position] * len(folded))
    return "".join(parts), index


def _fold_term(term: str) -> str:
    folded: str = _WHITESPACE.sub(" ", fold(nfc(term))[0].strip())
    return folded


def _pattern(terms: Iterable[str]) -> "regex.Pattern[str] | None":
    folded = sorted({_fold_term(term) for term in terms if term.strip()}, key=len, reverse=True)
    if not folded:
        return None
    alternatives = "|".join(r"\s+".join(regex.escape(word) for word in term.split(" ")) for term in folded)
    return regex.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@lru_cache(maxsize=256)
def _compiled(terms: tuple[str, ...]) -> "regex.Pattern[str] | None":
    return _pattern(terms)


_CLAIM_REPLACEMENTS = {_fold_term(term): replacement for term, replacement in CLAIMS}


def _find(text: str, terms: tuple[str, ...]) -> list[Hit]:
    pattern = _compiled(terms)
    if pattern is None or not text:
        return []
    folded, index = fold(text)
    hits = []
    for match in pattern.finditer(folded):
        start, end = index[match.start()], index[match.end() - 1] + 1
        while end < len(text) and not _fold_char(text[end]):
            end += 1  # keep a stray combining mark with the word it belongs to
        hits.append(Hit(start, end, _WHITESPACE.sub(" ", match.group())))
    return hits


def _inside(hit: Hit, spans: Sequence[Hit]) -> bool:
    return any(span.start <= hit.start and hit.end <= span.end for span in spans)


def find_banned(text: str, rules: BrandRules) -> list[Hit]:
    """Occurrences of the brand's banned words (whole words, any case or accents)."""
    return _find(text, tuple(rules.banned_words))


def find_required(text: str, phrase: str) -> list[Hit]:
    """Occurrences of one required phrase."""
    return _find(text, (phrase,))


def find_claims(text: str, rules: BrandRules) -> list[Hit]:
    """Unsubstantiated claims: those not overlapping an idiom, a substantiated claim or a required phrase."""
    claims = _find(text, tuple(term for term, _ in CLAIMS))
    if not claims:
        return []
    exempt = _find(text, NOT_CLAIMS) + _find(text, tuple(rules.substantiated_claims) + tuple(rules.required_phrases))
    substantiated = {_fold_term(claim) for claim in rules.substantiated_claims}
    return [
        Hit(hit.start, hit.end, hit.term, _CLAIM_REPLACEMENTS.get(hit.term, ""))
        for hit in claims
        if hit.term not in substantiated and not any(span.start < hit.end and hit.start < span.end for span in exempt)
    ]


def caps_allowed(rules: BrandRules) -> frozenset[str]:
    """Words that may stay in capitals."""
    return ALWAYS_ALLOWED_CAPS | {word.upper() for word in rules.allow_all_caps_words}


def _shouts(word: str) -> bool:
    # Two or more cased letters, all capitals, and sentence case would change it: mathematical bold capitals
    # have no lower case, and one capital before uncased letters is just a capitalised word.
    cased = [char for char in word if char.isupper() or char.islower()]
    return len(cased) >= 2 and all(char.isupper() for char in cased) and word[1:].lower() != word[1:]


def find_caps_words(text: str, rules: BrandRules) -> list[Hit]:
    """Words of 4+ letters in capitals that are not allowed acronyms or part of a required phrase."""
    allowed = caps_allowed(rules)
    exempt = _find(text, tuple(rules.required_phrases))
    hits = []
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) >= ALL_CAPS_MIN_LETTERS and _shouts(word) and word.upper() not in allowed:
            hit = Hit(match.start(), match.end(), word)
            if not _inside(hit, exempt):
                hits.append(hit)
    return hits


def is_all_caps(text: str, caps_words: Sequence[Hit]) -> bool:
    """A shouted field: a capitalised word and not one lower-case letter."""
    return bool(caps_words) and not any(char.islower() for char in text)


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Where each emoji cluster is in ``text``."""
    spans = []
    position = 0
    for cluster in clusters(text):
        if is_emoji(cluster):
            spans.append((position, position + len(cluster)))
        position += len(cluster)
    return spans


def emoji_limit(spec: FieldSpec, rules: BrandRules) -> int:
    """Emoji allowed per item: 0 with ``no_emoji``, else the stricter of the field's and the brand's (default 2)."""
    if "no_emoji" in spec.rules:
        return 0
    brand = DEFAULT_MAX_EMOJI if rules.max_emoji is None else rules.max_emoji
    return brand if spec.max_emoji is None else min(spec.max_emoji, brand)

"""Reading free-text replies (English and Spanish): folding, phrase search, negation, number words.

Pure and deterministic. Replies are folded first (case-folded, accents removed, curly quotes straightened,
spaces collapsed), so lexicons are written in folded form: "si", "dueno", "ano".
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

L = TypeVar("L")

# Words that negate the cue right after them in the same clause ("not urgent", "no es urgente").
_NEGATORS = frozenset(
    {
        "not", "no", "never", "none", "nothing", "nobody", "without", "hardly", "barely", "neither", "nor",
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "cant", "cannot", "wont", "wouldnt",
        "shouldnt", "havent", "hasnt", "aint",
        "nunca", "nada", "nadie", "ni", "tampoco", "sin", "jamas",
    }
)  # fmt: skip
# Phrases that contain a negator but do not negate what follows ("no doubt it's urgent").
_NOT_NEGATING = ("no doubt", "sin duda", "no matter", "not only", "no solo", "no solamente")
_CLAUSE_BREAK = re.compile(r"[,;.!?:]|\b(?:but|however|although|though|pero|sino|aunque|sin embargo)\b")
NEGATION_WINDOW = 4

_UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "cero": 0, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26,
    "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
    "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300, "trescientas": 300,
    "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500, "quinientas": 500, "seiscientos": 600,
    "seiscientas": 600, "setecientos": 700, "setecientas": 700, "ochocientos": 800, "ochocientas": 800,
    "novecientos": 900, "novecientas": 900,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 1_000, "grand": 1_000, "mil": 1_000, "million": 1_000_000,
    "millions": 1_000_000, "millon": 1_000_000, "millones": 1_000_000,
}  # fmt: skip
# Words that join number words without changing them ("one hundred and fifty", "treinta y cinco").
_JOINERS = frozenset({"and", "y"})
FEW = {"couple": 2, "par": 2, "few": 3, "pocos": 3, "pocas": 3, "unos": 3, "unas": 3, "several": 3, "varios": 3}
NUMBER_WORDS = frozenset(_UNITS) | frozenset(_SCALES) | frozenset(_JOINERS) | frozenset({"half", "medio", "media"})


def fold(text: str) -> str:
    """Case-folded, accents removed, curly quotes straight, spaces collapsed."""
    straight = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00b4", "'")
    decomposed = unicodedata.normalize("NFKD", straight.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def words(text: str) -> list[str]:
    """The folded words of a text, apostrophes dropped inside them ("don't" -> "dont")."""
    return [w.replace("'", "") for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text)]


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon phrase found in a folded reply, at ``start:end``."""

    start: int
    end: int
    phrase: str


@cache
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted(set(phrases), key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(part) for part in phrase.split()) for phrase in alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


def find(folded: str, phrases: Iterable[str]) -> list[Hit]:
    """Non-overlapping occurrences of the phrases, longest first at each position, in text order."""
    return [Hit(m.start(), m.end(), m.group()) for m in _pattern(tuple(phrases)).finditer(folded)]


def find_labelled(folded: str, lexicons: Mapping[L, Iterable[str]]) -> list[tuple[L, Hit]]:
    """Hits of several labelled lexicons; where two overlap the longer wins ("not me" over "me")."""
    hits = sorted(
        ((label, hit) for label, phrases in lexicons.items() for hit in find(folded, phrases)),
        key=lambda item: (item[1].start, -(item[1].end - item[1].start)),
    )
    kept: list[tuple[L, Hit]] = []
    for label, hit in hits:
        if kept and hit.start < kept[-1][1].end:
            continue
        kept.append((label, hit))
    return kept


def clause_before(folded: str, start: int) -> str:
    """The text between the last clause break before ``start`` and ``start``."""
    head = folded[:start]
    breaks = list(_CLAUSE_BREAK.finditer(head))
    return head[breaks[-1].end() :] if breaks else head


def negated(folded: str, start: int) -> bool:
    """Whether a negation in the same clause, a few words before ``start``, applies to what starts there."""
    clause = clause_before(folded, start)
    for phrase in _NOT_NEGATING:
        clause = clause.replace(phrase, " ")
    return any(word in _NEGATORS for word in words(clause)[-NEGATION_WINDOW:])


def number_from_words(tokens: list[str]) -> float | None:
    """The value of a run of number words: "fifty thousand", "doscientos mil", "half a million", "a couple"."""
    if not tokens:
        return None
    if tokens[0] in ("half", "medio", "media"):
        rest = [t for t in tokens[1:] if t not in ("a", "un", "una")]
        scale = _SCALES.get(rest[0]) if len(rest) == 1 else None
        return scale / 2 if scale else None
    if len(tokens) == 1 and tokens[0] in FEW:
        return float(FEW[tokens[0]])
    total = current = 0.0
    seen = False
    for token in tokens:
        if token in _JOINERS:
            continue
        if token in _UNITS:
            current += _UNITS[token]
            seen = True
        elif token in _SCALES:
            scale = _SCALES[token]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            seen = True
        else:
            return None
    return total + current if seen else None

"""Shared text helpers for local analysis: normal forms, offset-keeping folds, stems, language, sentences.

Matching happens on a normal form (casefolded, accents removed) while evidence is always quoted verbatim from
the caller's text: ``Folded`` keeps the map from one to the other.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.shared.errors import ValidationFailed

Language = Literal["en", "es"]
SUPPORTED_LANGUAGES: tuple[Language, ...] = ("en", "es")
MAX_TEXT_CHARS = 200_000

WORD = re.compile(r"\w+(?:'\w+)*")
_SUFFIXES = ("aciones", "iciones", "ations", "mente", "ation", "acion", "icion", "ments", "ment", "ness", "ing",
             "ions", "ion", "ate", "ar", "er", "ir", "ed")  # fmt: skip
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'\u201d\u2019»)\]]*(?=\s+)")
_STARTS_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018«(¿¡]?[\w]")


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
    words = WORD.findall(normalize(text))
    votes = {
        lang: sum(w in lex.STOPWORDS[lang] or w in lex.LANGUAGE_HINTS[lang] for w in words) for lang in ("en", "es")
    }
    votes["es"] += 2 * sum(text.count(ch) for ch in "ñÑ¿¡") + sum(text.count(ch) for ch in "áéíóúÁÉÍÓÚ")
    return "es" if votes["es"] > votes["en"] else "en"


def content_words(text: str, language: Language | None = None) -> list[str]:
    """The normalised words of ``text`` that are not stopwords (both languages when ``language`` is None)."""
    stop = lex.STOPWORDS[language] if language else lex.STOPWORDS["en"] | lex.STOPWORDS["es"]
    return [w for w in WORD.findall(normalize(text)) if w not in stop and not w.isdigit() and len(w) > 1]


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
    return [strip_span(text, a, b) for a, b in spans if text[a:b].strip()]


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


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end

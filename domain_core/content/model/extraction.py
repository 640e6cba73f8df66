"""Schema-driven field extraction: labelled lines, formats, enums and yes/no answers; it never guesses."""

import math
import re

from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.content.model.extraction_candidates import Cand, Doc
from promptsales.domain_core.content.model.extraction_schema import JsonScalar, JsonValue, Prop, parse_schema
from promptsales.domain_core.content.model.text_basics import (
    WORD,
    content_words,
    normalize,
    require_text,
    stem,
    strip_span,
)

_NAME_WORDS = frozenset({"name", "nombre"})
_MONEY_STEMS = frozenset(stem(w) for w in lex.MONEY_WORDS)
_PERCENT_STEMS = frozenset(stem(w) for w in lex.PERCENT_WORDS)
_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/[^\s]*)?")
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


def extract_fields(text: str, schema: dict[str, object]) -> Extraction:
    """Fill a JSON-Schema object from the text: labelled lines, formats, enums and yes/no answers; never guesses."""
    text = require_text(text)
    props, required = parse_schema(schema)
    doc = Doc(text)
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


def _label_matches(doc: Doc, props: list[Prop]) -> list[tuple[Prop, tuple[int, int]]]:
    """(property, "label: value" span) pairs whose label names the property, best match first."""
    # A label made of the property's own name words (or their synonyms) beats one matching only its description.
    pairs: list[tuple[tuple[float, float, float, int], Prop, tuple[int, int]]] = []
    for line_start, line_end in doc.lines:
        line = doc.text[line_start:line_end].rstrip("\r\n")
        matches = list(_LABEL.finditer(line))
        for n, m in enumerate(matches):
            value_end = matches[n + 1].start() if n + 1 < len(matches) else len(line)
            label_words = [stem(w) for w in content_words(m.group("label"))] or [
                stem(w) for w in WORD.findall(normalize(m.group("label")))
            ]
            span = strip_span(doc.text, line_start + m.end(), line_start + value_end)
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


def _reads_whole_span(prop: Prop) -> bool:
    """Whether the property's value is the labelled text itself rather than a typed value found inside it."""
    return not prop.enum and prop.format is None and prop.type in ("string", "boolean", "array:string")


def _from_span(
    doc: Doc, prop: Prop, start: int, end: int, claimed: set[tuple[int, int]]
) -> tuple[JsonValue, str] | None:
    """The property's value read from a labelled span (its typed candidates, its words, or the span itself)."""
    value_text = doc.text[start:end]
    kind = prop.type.removeprefix("array:")
    if prop.type.startswith("array:"):
        items = _array_items(doc, prop, kind, (start, end))
        return (items, value_text) if items else None
    if kind == "boolean":
        first = WORD.findall(normalize(value_text))[:1]
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


def _from_text(doc: Doc, prop: Prop, claimed: set[tuple[int, int]]) -> tuple[JsonValue, str] | None:
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


def _number_kinds(prop: Prop) -> tuple[str, ...]:
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


def _nearest(doc: Doc, prop: Prop, pool: list[Cand]) -> Cand | None:
    """The candidate closest to a word naming the property on the same line."""
    scored = [(d, c.start, c) for c in pool if (d := doc.distance(prop.terms, c)) is not None]
    return min(scored, key=lambda s: (s[0], s[1]))[2] if scored else None


def _enum_mentions(doc: Doc, prop: Prop, within: tuple[int, int] | None) -> list[Cand]:
    """Where the text names one of the property's enum values (or a known translation), in text order."""
    found: list[Cand] = []
    for value in prop.enum:
        key = normalize(str(value)).replace("_", " ").replace("-", " ")
        for form in {key, *lex.ENUM_SYNONYMS.get(key, ())}:
            pattern = r"[\s_-]+".join(re.escape(w) for w in form.split())
            for m in re.finditer(rf"(?<![\w$€£]){pattern}(?!\w)", doc.folded.text):
                start, end = doc.folded.span(m.start(), m.end())
                if within is None or (within[0] <= start and end <= within[1]):
                    found.append(Cand("enum", start, end, value, doc.text[start:end]))
    return sorted(found, key=lambda c: (c.start, -c.end))


def _array_items(doc: Doc, prop: Prop, kind: str, within: tuple[int, int] | None) -> list[JsonScalar]:
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


def _stated_yes_no(doc: Doc, prop: Prop) -> tuple[JsonValue, str] | None:
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

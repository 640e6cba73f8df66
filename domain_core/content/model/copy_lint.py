"""Copy lint: checks a variant against its channel's format spec and the tenant's brand rules.

Decisions worth knowing:
- Banned words, claims and required phrases match case- and accent-insensitively (NFKD, marks dropped,
  casefold; typographic apostrophes read as ``'``), on whole words: ``cure`` does not match ``secure``.
- Claims are English and Spanish. A hyphen is a word boundary, so ``best-in-class`` and ``best-selling`` are
  claims (they need proof too); a closed compound such as ``bestseller`` is not matched. Idioms that are not
  claims (``best regards``, ``all the best``, ``at best``...) are exempt, and so is text inside a required
  phrase (``Results not guaranteed.``) or a claim the brand substantiates.
- ALL-CAPS: words of 4+ letters written in capitals warn unless allowed (``STOP`` and ``HELP``, the SMS
  opt-out keywords, always are); a field with such a word and no lower-case letter at all is an error.
- Emoji limits (the brand's ``max_emoji`` and a field's own) count per field item.
"""

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import regex  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field

from promptsales.domain_core.content.model.channel_specs import FieldSpec, FormatSpec
from promptsales.domain_core.content.model.text_measure import (
    Counting,
    clusters,
    is_emoji,
    measure,
    nfc,
    sms_info,
    url_spans,
    utf8_bytes,
)
from promptsales.domain_core.shared.errors import ValidationFailed

Severity = Literal["error", "warning"]
CopyValue = str | list[str]

WARNING_CODES = frozenset(
    {"unknown_field", "over_recommended", "all_caps_word", "repeated_punctuation", "sms_unicode", "multi_segment"}
)
ERROR_CODES = frozenset(
    {
        "missing_field",
        "too_few_items",
        "too_many_items",
        "over_limit",
        "too_short",
        "no_short_item",
        "requires_field",
        "emoji_not_allowed",
        "hashtag_not_allowed",
        "mention_not_allowed",
        "link_not_allowed",
        "slash_not_allowed",
        "newline_not_allowed",
        "braces_not_allowed",
        "too_many_emoji",
        "banned_word",
        "missing_required_phrase",
        "unsubstantiated_claim",
        "all_caps_field",
        "too_many_segments",
        "payload_too_large",
    }
)
# What fixing cannot do: invent missing text.
UNFIXABLE_CODES = frozenset({"missing_field", "too_few_items", "too_short"})

# (claim, deterministic softer wording). Longer phrases first so "the best" wins over "best".
CLAIMS: tuple[tuple[str, str], ...] = (
    ("guaranteed", "designed"),
    ("guarantees", "promises"),
    ("guarantee", "promise"),
    ("the #1", "a leading"),
    ("#1", "leading"),
    ("no. 1", "leading"),
    ("no.1", "leading"),
    ("the number one", "a leading"),
    ("number one", "leading"),
    ("number 1", "leading"),
    ("the best", "a great"),
    ("best", "great"),
    ("100%", "fully"),
    ("100 %", "fully"),
    ("risk-free", "low-risk"),
    ("risk free", "low-risk"),
    ("clinically proven", "tested"),
    ("cures", "helps"),
    ("cured", "helped"),
    ("cure", "help"),
    ("miracles", "remarkable results"),
    ("miracle", "remarkable"),
    ("miraculous", "remarkable"),
    ("garantizado", "diseñado"),
    ("garantizada", "diseñada"),
    ("garantizados", "diseñados"),
    ("garantizadas", "diseñadas"),
    ("garantizamos", "buscamos"),
    ("garantía", "compromiso"),
    ("el mejor", "un gran"),
    ("la mejor", "una gran"),
    ("los mejores", "grandes"),
    ("las mejores", "grandes"),
    ("el número uno", "un líder"),
    ("número uno", "líder"),
    ("número 1", "líder"),
    ("nº 1", "líder"),
    ("nº1", "líder"),
    ("sin riesgos", "de bajo riesgo"),
    ("sin riesgo", "de bajo riesgo"),
    ("curan", "alivian"),
    ("cura", "alivia"),
    ("milagrosos", "notables"),
    ("milagrosas", "notables"),
    ("milagroso", "notable"),
    ("milagrosa", "notable"),
    ("milagros", "grandes resultados"),
    ("milagro", "gran resultado"),
)
NOT_CLAIMS: tuple[str, ...] = (
    "best regards",
    "best wishes",
    "all the best",
    "best practice",
    "best practices",
    "best before",
    "at best",
    "do your best",
    "to the best of",
)
# Carrier opt-out keywords are conventionally written in capitals; lower-casing them would break compliance.
ALWAYS_ALLOWED_CAPS = frozenset({"STOP", "HELP"})
ALL_CAPS_MIN_LETTERS = 4

_WORD = regex.compile(r"\p{L}+")
REPEATED_PUNCTUATION = regex.compile(r"([!?¡¿])\1+|[!?]{3,}")
_WHITESPACE = regex.compile(r"\s+")
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"}
_UNITS: dict[Counting, str] = {
    "graphemes": "characters",
    "display_width": "display-width units (CJK characters count 2)",
    "x_weighted": "weighted characters (X counting: CJK and emoji 2, links 23)",
    "sms_units": "GSM-7 / UCS-2 units",
    "utf8_bytes": "UTF-8 bytes",
}


class BrandRules(BaseModel):
    """The tenant brand kit's copy rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    banned_words: list[str] = Field(default_factory=list)
    required_phrases: list[str] = Field(default_factory=list, description="Disclaimers that must appear.")
    substantiated_claims: list[str] = Field(default_factory=list, description="Claims the brand can prove.")
    max_emoji: int | None = Field(default=None, ge=0, description="Per field item.")
    allow_all_caps_words: list[str] = Field(default_factory=list, description="Acronyms such as AI or CRM.")


class LintIssue(BaseModel):
    """One finding, naming the field (and item index for list fields) and what to do."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    field: str | None
    index: int | None = None
    message: str
    hint: str | None = None


class FieldMeasure(BaseModel):
    """A field item's length as the platform counts it."""

    model_config = ConfigDict(frozen=True)

    field: str
    index: int | None
    length: int
    limit: int | None
    recommended: int | None
    counting: Counting
    encoding: str | None = None
    segments: int | None = None
    max_segments: int | None = None


class LintReport(BaseModel):
    """Lint result: ``ok`` when there are no errors."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    issues: tuple[LintIssue, ...]
    measures: tuple[FieldMeasure, ...]

    @property
    def errors(self) -> list[LintIssue]:
        """Issues that block publishing."""
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[LintIssue]:
        """Issues worth a look."""
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def codes(self) -> set[str]:
        """The distinct issue codes."""
        return {issue.code for issue in self.issues}


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


def emoji_limit(spec: FieldSpec, rules: BrandRules) -> int | None:
    """Emoji allowed per item: 0 with ``no_emoji``, else the stricter of the field's and the brand's."""
    if "no_emoji" in spec.rules:
        return 0
    limits = [limit for limit in (spec.max_emoji, rules.max_emoji) if limit is not None]
    return min(limits) if limits else None


def items_of(value: CopyValue | None, field: str) -> list[str]:
    """A field's non-blank items, NFC-normalised (one text counts as one item)."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise ValidationFailed(
            f"Copy field '{field}' must be a text or a list of texts.", field=field, hint="Send strings only."
        )
    return [nfc(item) for item in values if item.strip()]


def label(field: str, index: int | None) -> str:
    """``headlines[2]`` for list items, the field name otherwise."""
    return field if index is None else f"{field}[{index}]"


class _Collector:
    def __init__(self) -> None:
        self.issues: list[LintIssue] = []
        self.measures: list[FieldMeasure] = []

    def add(self, code: str, field: str | None, index: int | None, message: str, hint: str | None = None) -> None:
        severity: Severity = "warning" if code in WARNING_CODES else "error"
        self.issues.append(
            LintIssue(code=code, severity=severity, field=field, index=index, message=message, hint=hint)
        )


_CHANNEL_RULES: tuple[tuple[str, str, str], ...] = (
    ("no_hashtags", "hashtag_not_allowed", "'#'"),
    ("no_mentions", "mention_not_allowed", "'@'"),
    ("no_slash", "slash_not_allowed", "'/'"),
    ("no_braces", "braces_not_allowed", "'{' or '}'"),
)
_RULE_CHARS = {"no_hashtags": "#", "no_mentions": "@", "no_slash": "/", "no_braces": "{}"}


def _check_length(out: _Collector, spec: FieldSpec, index: int | None, text: str) -> None:
    where = label(spec.name, index)
    unit = _UNITS[spec.counting]
    length = measure(text, spec.counting)
    if spec.counting == "sms_units":
        info = sms_info(text)
        out.measures.append(
            FieldMeasure(
                field=spec.name,
                index=index,
                length=info.units,
                limit=spec.max_length,
                recommended=spec.recommended,
                counting=spec.counting,
                encoding=info.encoding,
                segments=info.segments,
                max_segments=spec.max_segments,
            )
        )
        if info.encoding == "UCS-2":
            shown = "".join(info.non_gsm[:8])
            out.add(
                "sms_unicode",
                spec.name,
                index,
                f"{where} is sent as UCS-2 (70 per message, 67 per part) because of: {shown}",
                "Replace typographic quotes, dashes and emoji with GSM-7 characters to get 160 / 153.",
            )
        if spec.max_segments is not None and info.segments > spec.max_segments:
            out.add(
                "too_many_segments",
                spec.name,
                index,
                f"{where} takes {info.segments} {info.encoding} segments ({info.units} units); "
                f"the limit is {spec.max_segments}.",
                f"Shorten it to {spec.max_segments * info.per_segment_limit} units or fewer.",
            )
        elif spec.recommended_segments is not None and info.segments > spec.recommended_segments:
            out.add(
                "multi_segment",
                spec.name,
                index,
                f"{where} takes {info.segments} segments ({info.encoding}, {info.units} units); each is billed.",
                f"Keep it within {info.single_limit} units for a single message.",
            )
    else:
        out.measures.append(
            FieldMeasure(
                field=spec.name,
                index=index,
                length=length,
                limit=spec.max_length,
                recommended=spec.recommended,
                counting=spec.counting,
            )
        )
    if spec.max_length is not None and length > spec.max_length:
        whose = "the platform's limit" if spec.hard else "the product's cap"
        out.add(
            "over_limit",
            spec.name,
            index,
            f"{where} is {length} {unit}; {whose} is {spec.max_length}.",
            f"Shorten it by {length - spec.max_length} (rewrite_copy cuts at a word boundary).",
        )
    elif spec.recommended is not None and length > spec.recommended and spec.counting != "sms_units":
        out.add(
            "over_recommended",
            spec.name,
            index,
            f"{where} is {length} {unit}; about {spec.recommended} show before it is truncated with 'See more'.",
            "Put the key message first or shorten it.",
        )
    if spec.min_length is not None and 0 < length < spec.min_length:
        out.add(
            "too_short",
            spec.name,
            index,
            f"{where} is {length} {unit}; the platform needs at least {spec.min_length}.",
            "Write a longer text.",
        )


def _check_channel_rules(out: _Collector, spec: FieldSpec, index: int | None, text: str) -> None:
    where = label(spec.name, index)
    for rule, code, shown in _CHANNEL_RULES:
        if rule in spec.rules and any(char in text for char in _RULE_CHARS[rule]):
            out.add(
                code, spec.name, index, f"{where} contains {shown}, which this format does not allow.", "Remove it."
            )
    if "no_newline" in spec.rules and ("\n" in text or "\r" in text):
        out.add("newline_not_allowed", spec.name, index, f"{where} contains a line break.", "Use one line.")
    if "no_links" in spec.rules and url_spans(text):
        out.add(
            "link_not_allowed",
            spec.name,
            index,
            f"{where} contains a link; this format has no clickable links in the text.",
            "Remove it; the destination URL is set on the ad.",
        )


def _check_brand(out: _Collector, spec: FieldSpec, index: int | None, text: str, rules: BrandRules) -> None:
    where = label(spec.name, index)
    emoji = len(emoji_spans(text))
    limit = emoji_limit(spec, rules)
    if emoji and limit == 0 and "no_emoji" in spec.rules:
        out.add("emoji_not_allowed", spec.name, index, f"{where} contains emoji; this format allows none.", "Remove.")
    elif limit is not None and emoji > limit:
        out.add(
            "too_many_emoji",
            spec.name,
            index,
            f"{where} has {emoji} emoji; at most {limit} allowed.",
            f"Remove {emoji - limit}.",
        )
    for word in dict.fromkeys(text[hit.start : hit.end] for hit in find_banned(text, rules)):
        out.add("banned_word", spec.name, index, f"{where} uses the banned word '{word}'.", "Remove or replace it.")
    for hit in find_claims(text, rules):
        claim = text[hit.start : hit.end]
        out.add(
            "unsubstantiated_claim",
            spec.name,
            index,
            f"{where} makes the claim '{claim}' without substantiation.",
            f"Soften it (rewrite_copy uses '{hit.replacement}') or add it to the brand kit's substantiated claims.",
        )
    caps = find_caps_words(text, rules)
    if is_all_caps(text, caps):
        out.add("all_caps_field", spec.name, index, f"{where} is written entirely in capitals.", "Use sentence case.")
    else:
        for hit in caps:
            out.add(
                "all_caps_word",
                spec.name,
                index,
                f"{where} shouts '{hit.term}'.",
                "Use sentence case, or allow it as an acronym in the brand kit.",
            )
    repeated = REPEATED_PUNCTUATION.search(text)
    if repeated:
        out.add(
            "repeated_punctuation", spec.name, index, f"{where} repeats punctuation ('{repeated.group()}').", "Use one."
        )


def _check_items(out: _Collector, spec: FieldSpec, items: list[str]) -> None:
    if not items:
        if spec.required:
            out.add(
                "missing_field",
                spec.name,
                None,
                f"{spec.name} is required ({spec.min_items} or more).",
                f"Add {spec.description.lower() or spec.name}",
            )
        return
    if len(items) < spec.min_items:
        out.add(
            "too_few_items",
            spec.name,
            None,
            f"{spec.name} has {len(items)} items; at least {spec.min_items} are needed.",
            f"Add {spec.min_items - len(items)} more.",
        )
    if len(items) > spec.max_items:
        out.add(
            "too_many_items",
            spec.name,
            None,
            f"{spec.name} has {len(items)} items; at most {spec.max_items} are allowed.",
            f"Remove {len(items) - spec.max_items}.",
        )
    short = spec.short_item_limit
    if short is not None and all(measure(item, spec.counting) > short for item in items):
        out.add(
            "no_short_item",
            spec.name,
            None,
            f"{spec.name} needs at least one item of {short} {_UNITS[spec.counting]} or fewer.",
            f"Shorten one to {short}.",
        )


def lint_copy(copy: Mapping[str, CopyValue], spec: FormatSpec, rules: BrandRules | None = None) -> LintReport:
    """Lint one variant (field name -> text or list of texts) against a format spec and brand rules."""
    rules = rules or BrandRules()
    out = _Collector()
    given = {name: items_of(value, name) for name, value in copy.items()}
    for name in given:
        if name not in spec.fields:
            out.add(
                "unknown_field",
                name,
                None,
                f"{spec.key} has no field '{name}'; it is ignored.",
                f"Fields: {', '.join(spec.fields)}.",
            )
    for name, field in spec.fields.items():
        items = given.get(name, [])
        _check_items(out, field, items)
        for position, text in enumerate(items):
            index = position if field.is_list else None
            _check_length(out, field, index, text)
            _check_channel_rules(out, field, index, text)
            _check_brand(out, field, index, text, rules)
        for needed in field.requires:
            if items and not given.get(needed):
                out.add(
                    "requires_field",
                    name,
                    None,
                    f"{name} can only be set when {needed} is.",
                    f"Set {needed} first, or move this text there.",
                )
    texts = [text for name, items in given.items() if name in spec.fields for text in items]
    for phrase in rules.required_phrases:
        if phrase.strip() and not any(find_required(text, phrase) for text in texts):
            out.add(
                "missing_required_phrase",
                None,
                None,
                f"The required phrase '{phrase}' does not appear in any field.",
                f"Add it, for example to {spec.body_field}.",
            )
    if spec.payload is not None:
        size = sum(utf8_bytes(text) for text in texts)
        if size > spec.payload.text_budget:
            out.add(
                "payload_too_large",
                None,
                None,
                f"The text takes {size} UTF-8 bytes; {spec.payload.text_budget} of the {spec.payload.max_bytes}-byte "
                "payload are available for it.",
                f"Shorten {spec.body_field}.",
            )
    ok = not any(issue.severity == "error" for issue in out.issues)
    return LintReport(ok=ok, issues=tuple(out.issues), measures=tuple(out.measures))

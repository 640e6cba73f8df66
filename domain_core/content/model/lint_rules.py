"""The per-field lint checks: item counts, lengths as the platform counts them, channel rules and brand rules."""

import regex  # type: ignore[import-untyped]

from promptsales.domain_core.content.model.brand_rules import (
    BrandRules,
    emoji_limit,
    emoji_spans,
    find_banned,
    find_caps_words,
    find_claims,
    find_required,
    is_all_caps,
)
from promptsales.domain_core.content.model.channel_specs import FieldSpec, FormatSpec
from promptsales.domain_core.content.model.copy_quality import (
    MAX_SUPERLATIVES,
    Span,
    compliance_filler,
    find_superlatives,
    repetition_key,
)
from promptsales.domain_core.content.model.lint_report import WARNING_CODES, FieldMeasure, LintIssue, Severity
from promptsales.domain_core.content.model.text_measure import Counting, measure, nfc, sms_info, url_spans
from promptsales.domain_core.shared.errors import ValidationFailed

CopyValue = str | list[str]
REPEATED_PUNCTUATION = regex.compile(r"([!?¡¿])\1+|[!?]{3,}")
_UNITS: dict[Counting, str] = {
    "graphemes": "characters",
    "display_width": "display-width units (CJK characters count 2)",
    "x_weighted": "weighted characters (X counting: CJK and emoji 2, links 23)",
    "sms_units": "GSM-7 / UCS-2 units",
    "utf8_bytes": "UTF-8 bytes",
}


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


class Collector:
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


def check_length(out: Collector, spec: FieldSpec, index: int | None, text: str) -> None:
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
            f"Shorten it by {length - spec.max_length} (content_rewrite_copy cuts at a word boundary).",
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


def check_channel_rules(out: Collector, spec: FieldSpec, index: int | None, text: str) -> None:
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


def check_brand(out: Collector, spec: FieldSpec, index: int | None, text: str, rules: BrandRules) -> None:
    where = label(spec.name, index)
    emoji = len(emoji_spans(text))
    limit = emoji_limit(spec, rules)
    if emoji and limit == 0 and "no_emoji" in spec.rules:
        out.add("emoji_not_allowed", spec.name, index, f"{where} contains emoji; this format allows none.", "Remove.")
    elif emoji > limit:
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
            f"Soften it (content_rewrite_copy uses '{hit.replacement}') or add it to the brand kit's "
            "substantiated claims.",
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


def check_items(out: Collector, spec: FieldSpec, items: list[str]) -> None:
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


def exempt_spans(text: str, rules: BrandRules) -> list[Span]:
    """Where the brand's own wording is (required phrases, substantiated claims): quality checks leave it be."""
    return [
        Span(hit.start, hit.end, text[hit.start : hit.end])
        for phrase in (*rules.required_phrases, *rules.substantiated_claims)
        if phrase.strip()
        for hit in find_required(text, phrase)
    ]


def check_quality(out: Collector, spec: FieldSpec, index: int | None, text: str, rules: BrandRules) -> None:
    """Filler after compliance lines and stacked superlatives."""
    where = label(spec.name, index)
    exempt = exempt_spans(text, rules)
    for filler in compliance_filler(text, exempt):
        out.add(
            "compliance_filler",
            spec.name,
            index,
            f"{where} adds '{filler.text.strip()}' to a compliance line (opt-out or rates notice).",
            "End the compliance sentence right after it; content_rewrite_copy does.",
        )
    superlatives = find_superlatives(text, exempt)
    if len(superlatives) > MAX_SUPERLATIVES:
        shown = ", ".join(f"'{span.text}'" for span in superlatives)
        out.add(
            "too_many_superlatives",
            spec.name,
            index,
            f"{where} stacks {len(superlatives)} superlatives ({shown}); at most {MAX_SUPERLATIVES} reads as credible.",
            "Keep the strongest one, or replace them with a fact from the brief.",
        )


def sibling_group(name: str) -> str:
    """Fields that are alternatives of one slot share a group: path1 and path2 are both ``path``."""
    return name.rstrip("0123456789") or name


def check_repetition(out: Collector, spec: FormatSpec, given: dict[str, list[str]]) -> None:
    """No item says what an earlier one already said: within a list, between sibling fields, or anywhere."""
    seen: dict[str, tuple[str, int | None]] = {}
    for name, field in spec.fields.items():
        for position, text in enumerate(given.get(name, [])):
            key = repetition_key(text)
            index = position if field.is_list else None
            if not key:
                continue
            if key not in seen:
                seen[key] = (name, index)
                continue
            first_name, first_index = seen[key]
            where, first = label(name, index), label(first_name, first_index)
            if first_name == name:
                out.add(
                    "duplicate_item", name, index, f"{where} repeats {first}.", "Write a different item or remove it."
                )
            elif sibling_group(first_name) == sibling_group(name):
                out.add("repeated_field", name, index, f"{where} repeats {first}.", f"Use another word or drop {name}.")
            else:
                out.add("repeated_text", name, index, f"{where} says the same as {first}.", "Vary the wording.")

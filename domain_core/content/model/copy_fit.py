"""Deterministic fixes (content_rewrite_copy): make a failing variant pass lint without inventing new copy.

In order: join lines where a field is one line, remove banned words, soften unsubstantiated claims (the
wording in ``claims.CLAIMS``), strip characters the channel forbids (links, ``#``, ``@``, ``/``, braces)
and emoji beyond the limit, sentence-case shouting, collapse repeated ``!``/``?``, make SMS text GSM-7
friendly (typographic quotes and dashes), drop extra items, move ``path2`` to an empty ``path1``, cut every
item to its limit at a word boundary, then add missing required phrases: to the body field when it has
room, else the longest field item with room, else a new list item, else by shortening the body. Cutting can
expose a claim (``bestseller`` -> ``best``), so the passes repeat until lint is clean. Missing fields, too few
items and too-short texts are reported by lint; filling them is copywriting, not fixing.
"""

from collections.abc import Mapping

import regex  # type: ignore[import-untyped]

from promptsales.domain_core.content.model.brand_rules import (
    BrandRules,
    caps_allowed,
    emoji_limit,
    emoji_spans,
    find_banned,
    find_caps_words,
    find_claims,
    find_required,
    is_all_caps,
)
from promptsales.domain_core.content.model.channel_specs import FieldSpec, FormatSpec
from promptsales.domain_core.content.model.copy_lint import lint_copy
from promptsales.domain_core.content.model.copy_quality import (
    compliance_filler,
    find_superlatives,
    repetition_key,
    superlative_removals,
)
from promptsales.domain_core.content.model.lint_report import UNFIXABLE_CODES, LintReport
from promptsales.domain_core.content.model.lint_rules import (
    REPEATED_PUNCTUATION,
    CopyValue,
    exempt_spans,
    items_of,
    label,
    sibling_group,
)
from promptsales.domain_core.content.model.text_measure import (
    GSM7_CONCATENATED,
    GSM7_SINGLE,
    UCS2_CONCATENATED,
    UCS2_SINGLE,
    Counting,
    measure,
    nfc,
    sms_info,
    truncate_to,
    url_spans,
    utf8_bytes,
)

MAX_PASSES = 6
_SMS_FRIENDLY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)
_LINE_BREAKS = regex.compile(r"[^\S\r\n]*[\r\n]+\s*")
_SPACES = regex.compile(r"[^\S\r\n]{2,}")
_WORD = regex.compile(r"\p{L}+")
_SENTENCE_END = ".!?…"
_CLOSERS = ",.;:!?)]}…"
_OPENERS = "\"'¡¿([{«\u201c\u2018"

State = dict[str, list[str]]


def _at_sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip().rstrip(_OPENERS).rstrip()
    return not before or before[-1] in _SENTENCE_END


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def _match_case(original: str, replacement: str, sentence_start: bool) -> str:
    if original.isupper() and sum(char.isalpha() for char in original) > 1:
        return replacement.upper()
    if original[:1].isupper() or sentence_start:
        return _capitalise(replacement)
    return replacement


def _remove(text: str, spans: list[tuple[int, int]]) -> str:
    """Delete spans, leaving one space where words met and keeping a capital at the start."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in reversed(merged):
        left, right = text[:start], text[end:]
        left_kept, right_kept = left.rstrip(" \t"), right.lstrip(" \t")
        spaced = left_kept != left or right_kept != right
        join = " " if spaced and left_kept and right_kept and right_kept[0] not in _CLOSERS else ""
        capital = not left_kept and text[:1].isupper()
        text = left_kept + join + right_kept
        if capital:
            text = _capitalise(text)
    return _tidy(text)


def _tidy(text: str) -> str:
    collapsed: str = _SPACES.sub(" ", text)
    return collapsed.strip().lstrip(",;:").strip()


def _sentence_case(text: str, rules: BrandRules) -> str:
    hits = find_caps_words(text, rules)
    if not hits:
        return text
    if is_all_caps(text, hits):
        allowed = caps_allowed(rules)
        exempt = [hit for phrase in rules.required_phrases for hit in find_required(text, phrase)]

        def lower(match: "regex.Match[str]") -> str:
            word: str = match.group()
            inside = any(hit.start <= match.start() and match.end() <= hit.end for hit in exempt)
            return word if inside or word.upper() in allowed or word == "I" else word.lower()

        lowered: str = _WORD.sub(lower, text)

        def capital(match: "regex.Match[str]") -> str:
            word: str = match.group()
            return _capitalise(word) if _at_sentence_start(lowered, match.start()) else word

        cased: str = _WORD.sub(capital, lowered)
        return cased
    for hit in reversed(hits):
        word = hit.term.lower()
        text = (
            text[: hit.start] + (_capitalise(word) if _at_sentence_start(text, hit.start) else word) + text[hit.end :]
        )
    return text


def _clean(text: str, field: FieldSpec, rules: BrandRules, where: str, changes: list[str]) -> str:
    """Fix one item's wording; each change is recorded (surrounding spaces are trimmed silently)."""
    text = text.strip()
    if "no_newline" in field.rules and _LINE_BREAKS.search(text):
        text = _tidy(_LINE_BREAKS.sub(" ", text))
        changes.append(f"{where}: joined lines (one line only)")
    banned = find_banned(text, rules)
    if banned:
        words = ", ".join(dict.fromkeys(f"'{text[hit.start : hit.end]}'" for hit in banned))
        text = _remove(text, [(hit.start, hit.end) for hit in banned])
        changes.append(f"{where}: removed banned {words}")
    for hit in reversed(find_claims(text, rules)):
        claim = text[hit.start : hit.end]
        softer = _match_case(claim, hit.replacement, _at_sentence_start(text, hit.start))
        text = text[: hit.start] + softer + text[hit.end :]
        changes.append(f"{where}: softened the claim '{claim}' to '{softer}'")
    text = _strip_forbidden(text, field, where, changes)
    text = _plain_compliance(text, rules, where, changes)
    limit = emoji_limit(field, rules)
    spans = emoji_spans(text)
    if len(spans) > limit:
        text = _remove(text, spans[limit:])
        changes.append(f"{where}: removed {len(spans) - limit} emoji (at most {limit})")
    cased = _sentence_case(text, rules)
    if cased != text:
        text = cased
        changes.append(f"{where}: sentence-cased words in capitals")
    if REPEATED_PUNCTUATION.search(text):
        text = REPEATED_PUNCTUATION.sub(lambda match: match.group()[0], text)
        changes.append(f"{where}: collapsed repeated punctuation")
    if field.counting == "sms_units":
        friendly = text.translate(_SMS_FRIENDLY)
        if friendly != text:
            text = friendly
            changes.append(f"{where}: replaced typographic quotes and dashes with GSM-7 ones")
    return text


def _plain_compliance(text: str, rules: BrandRules, where: str, changes: list[str]) -> str:
    """Compliance sentences end right after the compliance line; superlatives beyond the first go."""
    for filler in reversed(compliance_filler(text, exempt_spans(text, rules))):
        text = _tidy(text[: filler.start].rstrip() + "." + text[filler.end :])
        changes.append(f"{where}: removed '{filler.text.strip()}' after a compliance line")
    superlatives = find_superlatives(text, exempt_spans(text, rules))
    removals = superlative_removals(text, superlatives)
    if removals:
        dropped = ", ".join(f"'{span.text}'" for span in superlatives[len(superlatives) - len(removals) :])
        text = _remove(text, removals)
        changes.append(f"{where}: removed the superlatives {dropped}")
    return text


def _strip_forbidden(text: str, field: FieldSpec, where: str, changes: list[str]) -> str:
    if "no_links" in field.rules:
        links = url_spans(text)
        if links:
            text = _remove(text, links)
            changes.append(f"{where}: removed {len(links)} link(s)")
    for rule, chars, replacement, what in (
        ("no_hashtags", "#", "", "'#'"),
        ("no_mentions", "@", "", "'@'"),
        ("no_braces", "{}", "", "braces"),
        ("no_slash", "/", "-", "'/' (now '-')"),
    ):
        if rule in field.rules and any(char in text for char in chars):
            for char in chars:
                text = text.replace(char, replacement)
            text = _tidy(text)
            changes.append(f"{where}: removed {what}")
    return text


def _structure(state: State, spec: FormatSpec, changes: list[str]) -> None:
    for name, field in spec.fields.items():
        if len(state[name]) > field.max_items:
            changes.append(f"{name}: dropped {len(state[name]) - field.max_items} item(s) beyond {field.max_items}")
            state[name] = state[name][: field.max_items]
    for name, field in spec.fields.items():
        for needed in field.requires:
            if state[name] and not state[needed]:
                state[needed], state[name] = state[name][: spec.fields[needed].max_items], []
                changes.append(f"moved {name} to {needed} ({name} needs {needed})")
    _drop_repeats(state, spec, changes)


def _drop_repeats(state: State, spec: FormatSpec, changes: list[str]) -> None:
    """Drop items that repeat an earlier item of the same list, or of a sibling field (path2 repeating path1)."""
    seen: dict[str, str] = {}
    for name in spec.fields:
        kept = []
        for position, text in enumerate(state[name]):
            key = repetition_key(text)
            first = seen.get(key) if key else None
            if first is not None and (first == name or sibling_group(first) == sibling_group(name)):
                changes.append(
                    f"{label(name, position if spec.fields[name].is_list else None)}: dropped, it repeats {first}"
                )
                continue
            if key:
                seen.setdefault(key, name)
            kept.append(text)
        state[name] = kept


def _unit_limit(field: FieldSpec, prefer_recommended: bool) -> int | None:
    limits = [field.max_length]
    if prefer_recommended:
        limits.append(field.recommended)
    present = [limit for limit in limits if limit is not None]
    return min(present) if present else None


def _fit_segments(text: str, max_segments: int) -> str:
    info = sms_info(text)
    if info.segments <= max_segments:
        return text
    per_part = GSM7_CONCATENATED if info.encoding == "GSM-7" else UCS2_CONCATENATED
    single = GSM7_SINGLE if info.encoding == "GSM-7" else UCS2_SINGLE
    units = single if max_segments == 1 else max_segments * per_part
    # Segments keep escape and surrogate pairs whole, so a part may hold one unit less: step down until it fits.
    while units > 0:
        cut = truncate_to(text, units, "sms_units")
        if sms_info(cut).segments <= max_segments:
            return cut
        units -= 1
    return ""


def _cut(text: str, field: FieldSpec, prefer_recommended: bool) -> str:
    limit = _unit_limit(field, prefer_recommended)
    if limit is not None and measure(text, field.counting) > limit:
        text = truncate_to(text, limit, field.counting)
    if field.max_segments is not None:
        segments = field.recommended_segments if prefer_recommended and field.recommended_segments else None
        text = _fit_segments(text, min(segment for segment in (field.max_segments, segments) if segment))
    return text


def _fit_lengths(state: State, spec: FormatSpec, prefer_recommended: bool, changes: list[str]) -> None:
    for name, field in spec.fields.items():
        for position, text in enumerate(state[name]):
            cut = _cut(text, field, prefer_recommended)
            if cut != text:
                where = label(name, position if field.is_list else None)
                before, after = measure(text, field.counting), measure(cut, field.counting)
                changes.append(f"{where}: cut from {before} to {after} ({field.counting}) to fit the limit")
                state[name][position] = cut
        short = field.short_item_limit
        if short is not None and state[name] and all(measure(text, field.counting) > short for text in state[name]):
            position = min(range(len(state[name])), key=lambda i: measure(state[name][i], field.counting))
            state[name][position] = truncate_to(state[name][position], short, field.counting)
            changes.append(f"{label(name, position)}: cut to {short} so one item is short enough")
        state[name] = [text for text in state[name] if text.strip()]
    if spec.payload is not None:
        _fit_payload(state, spec, changes)
    _drop_repeats(state, spec, changes)  # cutting can make two items read the same


def _payload_size(state: State) -> int:
    return sum(utf8_bytes(text) for items in state.values() for text in items)


def _fit_payload(state: State, spec: FormatSpec, changes: list[str]) -> None:
    assert spec.payload is not None
    budget = spec.payload.text_budget
    for name in [spec.body_field, *[name for name in spec.fields if name != spec.body_field]]:
        for position in range(len(state[name]) - 1, -1, -1):
            excess = _payload_size(state) - budget
            if excess <= 0:
                return
            text = state[name][position]
            state[name][position] = truncate_to(text, max(utf8_bytes(text) - excess, 0), "utf8_bytes")
            changes.append(f"{name}: cut to fit the {spec.payload.max_bytes}-byte payload")
        state[name] = [text for text in state[name] if text.strip()]


def _separator(head: str) -> str:
    if not head:
        return ""
    ends_with_emoji = bool(emoji_spans(head)) and emoji_spans(head)[-1][1] == len(head)
    return " " if head[-1] in _SENTENCE_END + ":" or ends_with_emoji else ". "


def _fits(state: State, spec: FormatSpec, name: str, position: int, text: str, prefer_recommended: bool) -> bool:
    field = spec.fields[name]
    if _cut(text, field, prefer_recommended) != text or not text.strip():
        return False
    scratch = {key: list(items) for key, items in state.items()}
    if position < len(scratch[name]):
        scratch[name][position] = text
    else:
        scratch[name].append(text)
    if spec.payload is not None and _payload_size(scratch) > spec.payload.text_budget:
        return False
    short = field.short_item_limit
    if short is not None and all(measure(item, field.counting) > short for item in scratch[name]):
        return False
    # The phrase must survive the field's own rules (no links on TikTok...).
    return _strip_forbidden(text, field, "", []) == text


def _budget(field: FieldSpec, text: str, prefer_recommended: bool) -> tuple[int, Counting] | None:
    """The limit an item is shortened against to make room: length, SMS units, or payload bytes."""
    limit = _unit_limit(field, prefer_recommended)
    if limit is not None:
        return limit, field.counting
    if field.max_segments is not None:
        info = sms_info(text)
        per_part = GSM7_CONCATENATED if info.encoding == "GSM-7" else UCS2_CONCATENATED
        return field.max_segments * per_part, "sms_units"
    return None


def _make_room(
    state: State, spec: FormatSpec, name: str, position: int, phrase: str, prefer_recommended: bool
) -> str | None:
    field = spec.fields[name]
    item = state[name][position]

    def fits(text: str) -> bool:
        return _fits(state, spec, name, position, text, prefer_recommended)

    budget = _budget(field, item + ". " + phrase, prefer_recommended)
    if budget is None and spec.payload is not None:
        others = _payload_size(state) - utf8_bytes(item)
        budget = (spec.payload.text_budget - others, "utf8_bytes")
    if budget is not None:
        limit, counting = budget
        room = limit - measure(". " + phrase, counting)
        # Lengths are not always additive (X links, SMS encodings): step down until the joined text fits.
        for _ in range(64):
            if room <= 0:
                break
            head = truncate_to(item, room, counting)
            joined = head + _separator(head) + phrase
            if head and fits(joined):
                return joined
            room -= 1
    return phrase if fits(phrase) else None


def _append(state: State, spec: FormatSpec, slots: list[tuple[str, int]], phrase: str, prefer: bool) -> str | None:
    for name, position in slots:
        item = state[name][position]
        joined = item + _separator(item) + phrase
        if _fits(state, spec, name, position, joined, prefer):
            state[name][position] = joined
            return label(name, position if spec.fields[name].is_list else None)
    return None


def _place(state: State, spec: FormatSpec, phrase: str, prefer: bool) -> str | None:
    """Where the phrase went: a body item with room, a new body item, the longest item with room, a shorter body."""
    body_name, body = spec.body_field, spec.fields[spec.body_field]
    placed = _append(state, spec, [(body_name, position) for position in range(len(state[body_name]))], phrase, prefer)
    if placed:
        return placed
    position = len(state[body_name])
    if position < body.max_items and _fits(state, spec, body_name, position, phrase, prefer):
        state[body_name].append(phrase)
        return label(body_name, position if body.is_list else None)
    others = [(name, index) for name in spec.fields if name != body_name for index in range(len(state[name]))]
    placed = _append(state, spec, sorted(others, key=lambda slot: -len(state[slot[0]][slot[1]])), phrase, prefer)
    if placed or not state[body_name]:
        return placed
    position = max(range(len(state[body_name])), key=lambda index: len(state[body_name][index]))
    roomy = _make_room(state, spec, body_name, position, phrase, prefer)
    if roomy is None:
        return None
    state[body_name][position] = roomy
    return label(body_name, position if body.is_list else None) + " (shortened to make room)"


def _add_required(state: State, spec: FormatSpec, rules: BrandRules, prefer: bool, changes: list[str]) -> None:
    for raw in rules.required_phrases:
        phrase = nfc(raw.strip())
        if not phrase or any(find_required(text, phrase) for items in state.values() for text in items):
            continue
        placed = _place(state, spec, phrase, prefer)
        changes.append(f"added the required phrase '{phrase}' to {placed}" if placed else f"could not fit '{phrase}'")


def _output(copy: Mapping[str, CopyValue], state: State, spec: FormatSpec) -> dict[str, CopyValue]:
    result: dict[str, CopyValue] = {}
    for name, field in spec.fields.items():
        if state[name]:
            result[name] = list(state[name]) if field.is_list else state[name][0]
    for name, value in copy.items():
        if name not in spec.fields:
            result[name] = value
    return result


def fix_copy(
    copy: Mapping[str, CopyValue],
    spec: FormatSpec,
    rules: BrandRules | None = None,
    report: LintReport | None = None,
    *,
    prefer_recommended: bool = False,
) -> tuple[dict[str, CopyValue], list[str]]:
    """The fixed variant and what changed; afterwards lint reports no errors but missing text.

    ``report`` is the caller's lint of ``copy``, if it has one: a clean report returns the copy as is.
    ``prefer_recommended`` also cuts to the platform's display (truncation) lengths and recommended segments.
    """
    rules = rules or BrandRules()
    if report is not None and not report.issues and not prefer_recommended:
        return dict(copy), []
    state: State = {name: items_of(copy.get(name), name) for name in spec.fields}
    changes: list[str] = []
    for _ in range(MAX_PASSES):
        for name, field in spec.fields.items():
            cleaned = [
                _clean(text, field, rules, label(name, position if field.is_list else None), changes)
                for position, text in enumerate(state[name])
            ]
            state[name] = [text for text in cleaned if text.strip()]
        _structure(state, spec, changes)
        _fit_lengths(state, spec, prefer_recommended, changes)
        _add_required(state, spec, rules, prefer_recommended, changes)
        if all(issue.code in UNFIXABLE_CODES for issue in lint_copy(_output(copy, state, spec), spec, rules).errors):
            break
    return _output(copy, state, spec), list(dict.fromkeys(changes))

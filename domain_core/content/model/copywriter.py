"""Local copywriting: channel-ready copy from a free-text brief, deterministic, offline and always within limits.

The caller says how long each field may be and how the platform counts it (``FieldPlan.measure``); every item
written satisfies ``measure(item) <= max_length``. When a candidate is too long the writer tries a shorter
template, then shorter phrases, then cuts at a word boundary (never inside a grapheme cluster). Copy makes no
claim the brief does not make: templates carry no superlatives and brief emoji, "!" and shouting are dropped.
"""

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from promptsales.domain_core.content.model import copy_templates as tpl
from promptsales.domain_core.content.model.brief_parsing import BriefFacts, parse_brief
from promptsales.domain_core.content.model.copy_fitting import cut_to_fit
from promptsales.domain_core.content.model.copy_quality import repetition_key
from promptsales.domain_core.content.model.copy_rendering import (
    BODY_LEVELS,
    RICHNESS,
    SHORTER_FORMS,
    SLOT,
    Slots,
    Tone,
    fill_slots,
    finish,
    path_words,
    render_all,
    render_body,
)
from promptsales.domain_core.content.model.text_basics import Language, normalize, require_language
from promptsales.domain_core.shared.errors import ValidationFailed

FieldKind = Literal["headline", "body", "cta", "subject", "preheader", "path", "short"]
CopyVariant = dict[str, str | list[str]]
MAX_VARIANTS = 10
MAX_ITEMS = 30
_TONES: tuple[Tone, ...] = ("professional", "friendly", "bold", "playful", "urgent")


@dataclass(frozen=True)
class FieldPlan:
    """One field to write: its name, its limit in the platform's own unit, and how the platform counts it."""

    name: str
    max_length: int
    measure: Callable[[str], int]
    items: int = 1
    recommended: int | None = None
    kind: FieldKind = field(kw_only=True)

    def __post_init__(self) -> None:
        where = f"fields[{self.name}]"
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationFailed("Every field needs a non-empty name.", field="fields")
        if not _is_int(self.max_length) or self.max_length < 1:
            raise ValidationFailed("max_length must be a positive integer.", field=f"{where}.max_length")
        if not callable(self.measure):
            raise ValidationFailed("measure must be a function from text to its length.", field=f"{where}.measure")
        if not _is_int(self.items) or not 1 <= self.items <= MAX_ITEMS:
            raise ValidationFailed(f"items must be an integer from 1 to {MAX_ITEMS}.", field=f"{where}.items")
        if self.recommended is not None and (not _is_int(self.recommended) or self.recommended < 1):
            raise ValidationFailed("recommended must be a positive integer or None.", field=f"{where}.recommended")
        if self.kind not in get_args(FieldKind):
            raise ValidationFailed(
                f"kind {self.kind!r} is not supported.", field=f"{where}.kind", hint=f"Use one of {tpl.KINDS}."
            )


def _is_int(value: object) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- writing


def write_copy(
    brief: str,
    fields: list[FieldPlan],
    *,
    language: str,
    tone: str,
    variants: int,
    seed: int = 0,
) -> list[CopyVariant]:
    """``variants`` distinct variants, each with every field (lists of ``items`` distinct entries when items > 1)."""
    lang = require_language(language)
    chosen_tone = _require_tone(tone)
    _check_plans(fields)
    if not _is_int(variants) or not 1 <= variants <= MAX_VARIANTS:
        raise ValidationFailed(f"variants must be an integer from 1 to {MAX_VARIANTS}.", field="variants")
    if not _is_int(seed):
        raise ValidationFailed("seed must be an integer.", field="seed")
    facts = parse_brief(brief, lang)
    writers = [_FieldWriter(plan, facts, lang, chosen_tone, seed) for plan in fields]
    written: list[CopyVariant] = []
    seen: set[tuple[tuple[str, ...], ...]] = set()
    for index in range(variants):
        for attempt in range(6):
            parts = _write_variant(writers, index, attempt, variants)
            signature = tuple(tuple(p) for p in parts)
            if signature not in seen:
                break
        seen.add(signature)
        for writer in writers:
            writer.used.update(writer.last)
        written.append({w.plan.name: p if w.plan.items > 1 else p[0] for w, p in zip(writers, parts, strict=True)})
    return written


def _write_variant(writers: list["_FieldWriter"], index: int, attempt: int, variants: int) -> list[list[str]]:
    """Every field's items for one variant; no field repeats what another field of the variant says.

    Single-text fields choose first (a business name or a display path has few candidates; a list of
    headlines has many), then lists, each avoiding what is already taken.
    """
    taken: set[str] = set()
    parts: dict[int, list[str]] = {}
    for position in sorted(range(len(writers)), key=lambda i: (writers[i].plan.items > 1, i)):
        items = writers[position].write(index, attempt, variants, taken)
        taken.update(repetition_key(item) for item in items)
        parts[position] = items
    return [parts[position] for position in range(len(writers))]


def _require_tone(tone: str) -> Tone:
    """``tone`` if supported, else ValidationFailed on "tone"."""
    for known in _TONES:
        if tone == known:
            return known
    raise ValidationFailed(f"Tone {tone!r} is not supported.", field="tone", hint=f"Supported tones: {tpl.TONES}.")


def _check_plans(fields: object) -> None:
    """A non-empty list of uniquely named plans whose measure counts "" within the limit."""
    if not isinstance(fields, list) or not fields or not all(isinstance(f, FieldPlan) for f in fields):
        raise ValidationFailed("fields must be a non-empty list of FieldPlan.", field="fields")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValidationFailed("Field names must be unique.", field="fields", hint=f"Got {names}.")
    for plan in fields:
        if plan.measure("") > plan.max_length:
            raise ValidationFailed(
                "measure('') is already over max_length.", field=f"fields[{plan.name}].measure", hint="Check the plan."
            )


class _FieldWriter:
    """Candidates for one field, best first, and the choice of distinct items that fit for each variant."""

    def __init__(self, plan: FieldPlan, facts: BriefFacts, lang: Language, tone: Tone, seed: int) -> None:
        self.plan, self.lang, self.tone = plan, lang, tone
        self.rng = random.Random(f"{seed}:{plan.name}:{plan.kind}")
        slots = fill_slots(facts, lang, tone)
        self.pinned, self.tiers, self.short = self._candidates(slots, facts)
        keywords = [k[0] for k in slots.get("keyword", [])]
        self.fallbacks = self._finish_all([*tpl.DEFAULT_CTAS[lang][tone], *keywords])
        self._lengths: dict[str, int] = {}
        self.used: set[str] = set()  # items earlier variants took: a later variant prefers fresh ones
        self.last: list[str] = []  # the latest write's items before decoration

    def _candidates(self, slots: Slots, facts: BriefFacts) -> tuple[list[str], list[list[str]], list[list[str]]]:
        """Pinned candidates (the brief's own CTA), full-form tiers and shortened-phrase tiers for this field."""
        kind, lang, tone = self.plan.kind, self.lang, self.tone
        if kind == "path":
            return [], [self._finish_all(path_words(facts))], []
        if kind == "cta":
            trial = facts.offer and re.search(r"trial|prueba", normalize(facts.offer))
            own = [*([facts.call_to_action] if facts.call_to_action else []), *([tpl.TRIAL_CTA[lang]] if trial else [])]
            pinned = self._finish_all(render_all(own, slots, 0, lang))
            others = [c for t in tpl.TONES if t != tone for c in tpl.DEFAULT_CTAS[lang][t]]
            defaults = self._shuffled(tpl.DEFAULT_CTAS[lang][tone]) + self._shuffled(others)
            return pinned, [self._finish_all(defaults)], []
        if kind == "body":
            openers = self._openers()
            tiers = [self._finish_all(render_body(slots, lang, tone, openers, level, 0)) for level in BODY_LEVELS]
            short = [
                self._finish_all(render_body(slots, lang, tone, openers, level, form))
                for form in SHORTER_FORMS
                for level in BODY_LEVELS
            ]
            return [], tiers, short
        pack = {"headline": tpl.HEADLINES, "subject": tpl.SUBJECTS, "preheader": tpl.PREHEADERS, "short": tpl.SHORTS}
        templates = pack[kind][lang]
        ordered = self._ranked(templates.get(tone, ()), templates["any"])
        full = self._finish_all(render_all(ordered, slots, 0, lang))
        return [], [full], [self._finish_all(render_all(ordered, slots, form, lang)) for form in SHORTER_FORMS]

    def _openers(self) -> list[str]:
        """Body openers for the tone, ranked."""
        openers = tpl.BODY_OPENERS[self.lang]
        return self._ranked(openers.get(self.tone, ()), openers["any"])

    def _ranked(self, toned: Sequence[str], common: Sequence[str]) -> list[str]:
        """Templates that carry more of the brief first (the tone's own ahead on ties), in seeded order within."""
        shuffled = [(t, 0.5) for t in self._shuffled(toned)] + [(t, 0.0) for t in self._shuffled(common)]
        ranked = sorted(shuffled, key=lambda pair: -(pair[1] + sum(RICHNESS.get(n, 0) for n in SLOT.findall(pair[0]))))
        return [template for template, _ in ranked]

    def _shuffled(self, items: Sequence[str]) -> list[str]:
        """A seeded shuffle: same seed, same order."""
        result = list(items)
        self.rng.shuffle(result)
        return result

    def _finish_all(self, texts: Iterable[str]) -> list[str]:
        """Finished, non-empty, distinct candidates in order."""
        finished = (finish(t, self.plan.kind, self.tone) for t in texts)
        return list(dict.fromkeys(t for t in finished if t))

    def _length(self, text: str) -> int:
        """The platform's count for ``text``, measured once."""
        if text not in self._lengths:
            self._lengths[text] = self.plan.measure(text)
        return self._lengths[text]

    def write(self, variant: int, attempt: int, variants: int, taken: set[str]) -> list[str]:
        """The items for one variant: fitting candidates first, then shortened phrases, then cut ones.

        Items never repeat each other or what ``taken`` holds (the repetition keys of the variant's other fields);
        when the limit leaves no room for enough distinct text, the field gets fewer items.
        """
        plan = self.plan
        offset = (variant + attempt * variants) * plan.items
        full = [*(self.pinned if attempt == 0 else []), *(c for tier in self.tiers for c in _rotate(tier, offset))]
        short = [c for tier in self.short for c in _rotate(tier, offset)]
        extra = [c for c in self.pinned if attempt] + self.fallbacks
        soft = min(plan.recommended or plan.max_length, plan.max_length)
        picked: list[str] = []
        keys: set[str] = set(taken)
        # (pool, limit, cut to fit, fresh only): a better fit first, then what earlier variants did not use.
        passes: list[tuple[list[str], int, bool, bool]] = [
            *((pool, limit, False, True) for pool, limit in ((full, soft), (full, plan.max_length))),
            (short, plan.max_length, False, True),
            *((pool, limit, False, False) for pool, limit in ((full, soft), (full, plan.max_length))),
            (short, plan.max_length, False, False),
            (extra, plan.max_length, False, False),
            ([*full, *short, *extra], plan.max_length, True, False),
        ]
        for pool, limit, cut, fresh in passes:
            for candidate in pool:
                if len(picked) == plan.items:
                    break
                if fresh and candidate in self.used:
                    continue
                text = self._cut(candidate) if cut else candidate
                key = repetition_key(text)
                if key and key not in keys and self._length(text) <= limit:
                    picked.append(text)
                    keys.add(key)
        if not picked and plan.items == 1:
            picked.append("")  # a single field the limit leaves no room for: left empty for lint to report
        self.last = picked
        return [self._decorate(text, variant, i) for i, text in enumerate(picked)]

    def _cut(self, text: str) -> str:
        """``text`` cut to the field's limit (display paths may also break at a hyphen)."""
        return cut_to_fit(text, self._length, self.plan.max_length, "-" if self.plan.kind == "path" else "")

    def _decorate(self, text: str, variant: int, index: int) -> str:
        """Add an emoji where tone and field kind allow it and it still fits."""
        emoji = tpl.EMOJI.get(self.tone)
        if not emoji or not text or self.plan.kind not in tpl.EMOJI_KINDS:
            return text
        if self.tone == "friendly" and (variant + index) % 2:
            return text  # friendly copy uses emoji sparingly: every other item
        decorated = f"{text} {emoji[(variant + index) % len(emoji)]}"
        if self._length(decorated) > self.plan.max_length:
            return text
        return decorated


def _rotate(items: list[str], offset: int) -> list[str]:
    """``items`` started at ``offset`` (wrapping), so each variant leads with a different candidate."""
    if not items:
        return items
    shift = offset % len(items)
    return items[shift:] + items[:shift]

"""Local copywriting: channel-ready copy from a free-text brief, deterministic, offline and always within limits.

The caller says how long each field may be and how the platform counts it (``FieldPlan.measure``); every item
written satisfies ``measure(item) <= max_length``. When a candidate is too long the writer tries a shorter
template, then shorter phrases, then cuts at a word boundary (never inside a grapheme cluster). Copy makes no
claim the brief does not make: templates carry no superlatives and brief emoji, "!" and shouting are dropped.
"""

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from itertools import product as combinations
from typing import Literal, get_args

import regex  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import copy_templates as tpl
from promptsales.domain_core.content.model.lexicons import STOPWORDS
from promptsales.domain_core.content.model.text_analysis import (
    Folded,
    Language,
    normalize,
    require_language,
    require_text,
)
from promptsales.domain_core.shared.errors import ValidationFailed

FieldKind = Literal["headline", "body", "cta", "subject", "preheader", "path", "short"]
Tone = Literal["professional", "friendly", "bold", "playful", "urgent"]
CopyVariant = dict[str, str | list[str]]
MAX_VARIANTS = 10
MAX_ITEMS = 30

_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(
    r"(?:\p{Extended_Pictographic}|\p{Regional_Indicator})(?:\uFE0F|\u20E3|\p{Emoji_Modifier}"
    r"|\u200D(?:\p{Extended_Pictographic}|\p{Regional_Indicator}))*\u200D?|[#*0-9]\uFE0F?\u20E3"
    r"|[\uFE0F\u20E3\p{Emoji_Modifier}]"
)
# Joiners and combining marks beside a space belong to no letter: left there they would fuse with the space.
_LOOSE_MARKS = regex.compile(r"(?:(?<=^|\s)[\p{Cf}\p{Mn}\p{Me}]+)|(?:\p{Cf}+(?=\s|$))")
_SLOT = re.compile(r"\{(\w+)\}")
_CLAUSE_SPLIT = re.compile(r"[;•·|\n]+|(?<=[.?!…:])\s+|,\s+|\s[-\u2013\u2014]\s")
_QUOTED = re.compile(r"[\"\u201c\u00ab]([^\"\u201d\u00bb\n]{2,60})[\"\u201d\u00bb]")
_TOKEN = re.compile(r"[^\W_][\w&+.'-]*")
_EDGE = " .,:;-\u2013\u2014!?¡¿\"'()[]{}\u201c\u201d\u00ab\u00bb…/&*#"
_DANGLING = " ,;:-\u2013\u2014(¿¡\"'/&\u201c\u00ab…"
_ALWAYS_CAPS = frozenset({"STOP", "HELP"})  # carrier opt-out keywords stay in capitals
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


class BriefFacts(BaseModel):
    """What a brief says: the product, who it is for, its benefits, offer, call to action, keywords and proof."""

    model_config = ConfigDict(frozen=True)

    product: str
    audience: str | None
    benefits: list[str]
    offer: str | None
    call_to_action: str | None
    keywords: list[str]
    proof_points: list[str]


def _is_int(value: object) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- reading the brief


def parse_brief(text: str, language: str) -> BriefFacts:
    """Facts from a free-text brief by simple rules (emoji, "!" and control characters are dropped first)."""
    lang = require_language(language)
    clean = _clean(require_text(text, "brief"))
    clauses = [c for c in (_trim(_deshout(c)) for c in _CLAUSE_SPLIT.split(clean)) if c]
    first_line = clean.split("\n", 1)[0]
    head = _trim(first_line.split(": ", 1)[0]) if ": " in first_line[:160] else None
    product, audience = _product_and_audience(clean, head, clauses, lang)
    source = _trim(_deshout(head)) if head else None
    benefits: list[str] = []
    proofs: list[str] = []
    offer = cta = None
    for clause in clauses:
        if clause == source:
            continue
        named = _find(clause, rf"(?<!\w){re.escape(normalize(product))}(?!\w)")
        if named:  # what follows the name may still be a benefit ("Acme helps teams cut costs")
            clause = _trim(clause[named[1] :])
        if not clause:
            continue
        folded = normalize(clause)
        offer_match = _first_match(tpl.OFFER_PATTERNS[lang], folded)
        offer_span = next((sp for p in tpl.OFFER_PATTERNS[lang] if (sp := _find(clause, p))), None)
        if _first_match(tpl.CTA_PATTERNS[lang], folded) and not (offer_match and offer_match.start() == 0):
            cta = cta or clause
        elif offer_span:
            offer = offer or (clause if len(clause.split()) <= 8 else clause[offer_span[0] : offer_span[1]])
        else:
            benefit = _benefit(clause, lang)
            if benefit:
                benefits.append(benefit)
        if re.search(tpl.PROOF_PATTERN, folded) and not offer_match:
            proofs.append(clause)
    return BriefFacts(
        product=product,
        audience=audience,
        benefits=list(dict.fromkeys(benefits))[:5],
        offer=offer,
        call_to_action=cta,
        keywords=_keywords(clean, lang, product),
        proof_points=list(dict.fromkeys(proofs))[:5],
    )


def _clean(text: str) -> str:
    """NFC, no emoji, no "!"/"¡", control characters as spaces (newlines kept: they separate clauses)."""
    text = _EMOJI.sub("", unicodedata.normalize("NFC", text)).replace("!", ".").replace("¡", "")
    kept = (ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Co", "Cn", "Cs") else " " for ch in text)
    lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in "".join(kept).split("\n"))
    return "\n".join(_LOOSE_MARKS.sub("", line) for line in lines)


def _trim(text: str) -> str:
    """A fragment without edge punctuation, marks or joiners (which would fuse with the template around it)."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_EDGE).strip()
        while text and unicodedata.category(text[0]) in ("Mn", "Me", "Mc", "Cf"):
            text = text[1:]
        while text and unicodedata.category(text[-1]) == "Cf":
            text = text[:-1]
    return text


def _first_match(patterns: Iterable[str], folded: str) -> re.Match[str] | None:
    """The first pattern's match in normalised text, trying patterns in order."""
    return next((m for p in patterns if (m := re.search(p, folded))), None)


def _find(text: str, pattern: str) -> tuple[int, int] | None:
    """Offsets in ``text`` of the first match of ``pattern`` against its normal form."""
    folded = Folded.of(text)
    match = re.search(pattern, folded.text)
    return folded.span(match.start(), match.end()) if match else None


def _strip_lead(text: str, leads: Iterable[str]) -> str:
    """``text`` without a leading word or phrase from ``leads`` (compared in normal form)."""
    for lead in sorted(leads, key=len, reverse=True):
        found = _find(text, rf"^{re.escape(lead)}\s")
        if found:
            return text[found[1] :].strip()
    return text


def _product_and_audience(clean: str, head: str | None, clauses: list[str], lang: Language) -> tuple[str, str | None]:
    """The product (quoted name, text before ":", or capitalised phrase) and the audience ("for ...")."""
    quoted = _QUOTED.search(clean)
    first = head if head is not None else (clauses[0] if clauses else "")
    subject = _strip_lead(_strip_lead(first, tpl.LAUNCH_WORDS[lang]), tpl.LAUNCH_WORDS[lang])
    product, audience = (subject if head is not None else ""), None
    for marker in tpl.AUDIENCE_MARKERS[lang]:
        found = _find(subject, rf"\s{re.escape(marker)}\s")
        if found:
            product, audience = subject[: found[0]].strip(), _trim(subject[found[1] :]) or None
            break
    if quoted:
        product = _trim(quoted.group(1))
    elif not product or len(product.split()) > 6 or not _looks_named(product):
        product, audience = _capitalised_phrase(clean, lang) or tpl.DEFAULT_PRODUCT[lang], audience if head else None
    return _deshout(product, keep_case=True), _deshout(audience) if audience else None


def _looks_named(phrase: str) -> bool:
    """A product name has a capital or a digit somewhere ("PromptSales Pro", "x360")."""
    return any(ch.isupper() or ch.isdigit() for ch in phrase)


def _capitalised_phrase(text: str, lang: Language) -> str | None:
    """The longest run of capitalised words that is not just a sentence's first common word."""
    common = STOPWORDS[lang] | tpl.BENEFIT_VERBS[lang] | set(tpl.LAUNCH_WORDS[lang]) | tpl.CTA_VERBS[lang]
    best: list[str] = []
    for line in text.split("\n"):
        run: list[str] = []
        for m in _TOKEN.finditer(line):
            word = m.group().rstrip(".'")
            named = any(ch.isupper() for ch in word) and normalize(word) not in common
            gap = line[m.start() - 1] if m.start() else " "
            if named and (not run or gap == " ") and len(run) < 4:
                run.append(word)
            else:
                best = run if len(run) > len(best) else best
                run = [word] if named else []
        best = run if len(run) > len(best) else best
    return " ".join(best) or None


def _benefit(clause: str, lang: Language) -> str | None:
    """The clause from its first benefit verb on ("helps teams cut costs" -> "cut costs"), base form in English."""
    # A verb counts at the start, after a linking word ("to", "para") or anywhere after a helper ("helps",
    # "ayuda"); a helper with no benefit verb after it is itself the benefit.
    words = clause.split()
    helped, fallback = False, None
    for index, word in enumerate(words):
        folded = normalize(word.strip(_EDGE))
        linked = index == 0 or helped or normalize(words[index - 1]) in _BENEFIT_GLUE
        if folded in _HELPERS:
            fallback = fallback if fallback is not None or not linked else index
            helped = True
            continue
        base = _base_verb(folded, lang)
        if base is not None and linked:
            return " ".join([base if lang == "en" else word.strip(_EDGE).lower(), *words[index + 1 :]])
    if fallback is None:
        return None
    helper = normalize(words[fallback].strip(_EDGE))
    return " ".join([_base_verb(helper, lang) or helper, *words[fallback + 1 :]])


_BENEFIT_GLUE = frozenset({"to", "you", "and", "y", "a", "te", "que", "para", "can", "will", "puedes"})
_HELPERS = frozenset({"help", "helps", "lets", "let", "allows", "enables", "ayuda", "permite", "deja"})


def _base_verb(word: str, lang: Language) -> str | None:
    """The verb's base form when ``word`` is a known benefit verb ("cuts" -> "cut", "simplifies" -> "simplify")."""
    verbs = tpl.BENEFIT_VERBS[lang]
    if word in verbs:
        return word
    if lang == "en":
        for form in (word[:-1], word[:-2], word[:-3] + "y"):
            if word.endswith("s") and form in verbs:
                return form
    return None


def _keywords(text: str, lang: Language, product: str) -> list[str]:
    """Content words by frequency (ties: first seen), without stopwords, verbs, numbers or the product's words."""
    # A word keeps its capitals only when it has some past the first letter ("SaaS", "B2B").
    skip = (
        STOPWORDS[lang]
        | {normalize(w) for w in product.split()}
        | tpl.CTA_VERBS[lang]
        | tpl.BENEFIT_VERBS[lang]
        | _HELPERS
        | {normalize(w) for phrase in tpl.LAUNCH_WORDS[lang] for w in phrase.split()}
    )
    found = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if len(w) > 2 and normalize(w) not in skip]
    words = [w if any(ch.isupper() for ch in w[1:]) else w.lower() for w in found]
    counts = Counter(normalize(w) for w in words)
    first = {normalize(w): w for w in reversed(words)}
    return [first[k] for k in sorted(counts, key=lambda k: (-counts[k], words.index(first[k])))][:8]


def _deshout(text: str, keep_case: bool = False) -> str:
    """Words of 4+ capital letters lose the shouting: title case in names, lower case elsewhere."""

    def soften(m: re.Match[str]) -> str:
        """One word, softened if it shouts."""
        word = m.group()
        letters = [ch for ch in word if ch.isalpha()]
        if len(letters) < 4 or not all(ch.isupper() for ch in letters) or word in _ALWAYS_CAPS:
            return word
        return word.capitalize() if keep_case else word.lower()

    return re.sub(r"\w+", soften, text)


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
            parts = [w.write(index, attempt, variants) for w in writers]
            signature = tuple(tuple(p) for p in parts)
            if signature not in seen:
                break
        seen.add(signature)
        for writer in writers:
            writer.used.update(writer.last)
        written.append({w.plan.name: p if w.plan.items > 1 else p[0] for w, p in zip(writers, parts, strict=True)})
    return written


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
        slots = _slots(facts, lang, tone)
        self.pinned, self.tiers, self.short = self._candidates(slots, facts)
        keywords = [k[0] for k in slots.get("keyword", [])]
        self.fallbacks = self._finish_all([*tpl.DEFAULT_CTAS[lang][tone], *keywords])
        self._lengths: dict[str, int] = {}
        self.used: set[str] = set()  # items earlier variants took: a later variant prefers fresh ones
        self.last: list[str] = []  # the latest write's items before decoration

    def _candidates(self, slots: "_Slots", facts: BriefFacts) -> tuple[list[str], list[list[str]], list[list[str]]]:
        """Pinned candidates (the brief's own CTA), full-form tiers and shortened-phrase tiers for this field."""
        kind, lang, tone = self.plan.kind, self.lang, self.tone
        if kind == "path":
            return [], [self._finish_all(_path_words(facts))], []
        if kind == "cta":
            trial = facts.offer and re.search(r"trial|prueba", normalize(facts.offer))
            own = [*([facts.call_to_action] if facts.call_to_action else []), *([tpl.TRIAL_CTA[lang]] if trial else [])]
            pinned = self._finish_all(_render_all(own, slots, 0, lang))
            others = [c for t in tpl.TONES if t != tone for c in tpl.DEFAULT_CTAS[lang][t]]
            defaults = self._shuffled(tpl.DEFAULT_CTAS[lang][tone]) + self._shuffled(others)
            return pinned, [self._finish_all(defaults)], []
        if kind == "body":
            openers = self._openers()
            tiers = [self._finish_all(_body(slots, lang, tone, openers, level, 0)) for level in _BODY_LEVELS]
            short = [
                self._finish_all(_body(slots, lang, tone, openers, level, form))
                for form in _SHORTER_FORMS
                for level in _BODY_LEVELS
            ]
            return [], tiers, short
        pack = {"headline": tpl.HEADLINES, "subject": tpl.SUBJECTS, "preheader": tpl.PREHEADERS, "short": tpl.SHORTS}
        templates = pack[kind][lang]
        ordered = self._ranked(templates.get(tone, ()), templates["any"])
        full = self._finish_all(_render_all(ordered, slots, 0, lang))
        return [], [full], [self._finish_all(_render_all(ordered, slots, form, lang)) for form in _SHORTER_FORMS]

    def _openers(self) -> list[str]:
        """Body openers for the tone, ranked."""
        openers = tpl.BODY_OPENERS[self.lang]
        return self._ranked(openers.get(self.tone, ()), openers["any"])

    def _ranked(self, toned: Sequence[str], common: Sequence[str]) -> list[str]:
        """Templates that carry more of the brief first (the tone's own ahead on ties), in seeded order within."""
        shuffled = [(t, 0.5) for t in self._shuffled(toned)] + [(t, 0.0) for t in self._shuffled(common)]
        ranked = sorted(
            shuffled, key=lambda pair: -(pair[1] + sum(_RICHNESS.get(n, 0) for n in _SLOT.findall(pair[0])))
        )
        return [template for template, _ in ranked]

    def _shuffled(self, items: Sequence[str]) -> list[str]:
        """A seeded shuffle: same seed, same order."""
        result = list(items)
        self.rng.shuffle(result)
        return result

    def _finish_all(self, texts: Iterable[str]) -> list[str]:
        """Finished, non-empty, distinct candidates in order."""
        finished = (_finish(t, self.plan.kind, self.tone) for t in texts)
        return list(dict.fromkeys(t for t in finished if t))

    def _length(self, text: str) -> int:
        """The platform's count for ``text``, measured once."""
        if text not in self._lengths:
            self._lengths[text] = self.plan.measure(text)
        return self._lengths[text]

    def write(self, variant: int, attempt: int, variants: int) -> list[str]:
        """The items for one variant: fitting candidates first, then shortened phrases, then cut ones."""
        plan = self.plan
        offset = (variant + attempt * variants) * plan.items
        full = [*(self.pinned if attempt == 0 else []), *(c for tier in self.tiers for c in _rotate(tier, offset))]
        short = [c for tier in self.short for c in _rotate(tier, offset)]
        extra = [c for c in self.pinned if attempt] + self.fallbacks
        soft = min(plan.recommended or plan.max_length, plan.max_length)
        picked: list[str] = []
        keys: set[str] = set()
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
                if text and normalize(text) not in keys and self._length(text) <= limit:
                    picked.append(text)
                    keys.add(normalize(text))
        while len(picked) < plan.items:  # the limit leaves no room for more distinct text
            picked.append(picked[len(picked) % len(picked)] if picked else "")
        self.last = picked
        return [self._decorate(text, variant, i, keys) for i, text in enumerate(picked)]

    def _cut(self, text: str) -> str:
        """The longest prefix at a word boundary that fits, else the longest fitting run of whole graphemes."""
        clusters: list[str] = _CLUSTER.findall(text)
        breaks = "-" if self.plan.kind == "path" else ""
        best = ""
        for index, cluster in enumerate(clusters):
            if not (cluster.isspace() or cluster in breaks) or not index:
                continue
            prefix = _tidy_end("".join(clusters[:index]), words=True)
            if prefix and self._length(prefix) <= self.plan.max_length:
                best = prefix
            elif prefix:
                break  # platform counts only grow as text grows
        if best:
            return best
        for index in range(1, len(clusters) + 1):
            prefix = "".join(clusters[:index]).strip()
            if self._length(prefix) > self.plan.max_length:
                break
            best = prefix
        return best

    def _decorate(self, text: str, variant: int, index: int, keys: set[str]) -> str:
        """Add an emoji where tone and field kind allow it and it still fits."""
        emoji = tpl.EMOJI.get(self.tone)
        if not emoji or not text or self.plan.kind not in tpl.EMOJI_KINDS:
            return text
        if self.tone == "friendly" and (variant + index) % 2:
            return text  # friendly copy uses emoji sparingly: every other item
        decorated = f"{text} {emoji[(variant + index) % len(emoji)]}"
        if self._length(decorated) > self.plan.max_length or normalize(decorated) in keys:
            return text
        return decorated


def _rotate(items: list[str], offset: int) -> list[str]:
    """``items`` started at ``offset`` (wrapping), so each variant leads with a different candidate."""
    if not items:
        return items
    shift = offset % len(items)
    return items[shift:] + items[:shift]


# --------------------------------------------------------------------------- templates and slots

_Slots = dict[str, list[tuple[str, ...]]]  # slot -> values, each with its forms longest first
# How much a slot says about the offering: a benefit sells more than the bare product name.
_RICHNESS = {"benefit": 2.0, "pain": 1.5, "proof": 1.0, "offer": 1.0, "audience": 1.0, "product": 0.25, "cta": 0.25}
_TIME_WORDS = frozenset({"today", "now", "tonight", "hoy", "ya", "ahora"})
_AFTER_TIMED_CTA = re.compile(r"\{cta\}\s+(?:today|now|whenever you're ready|hoy|ya|cuando quieras)\b")
_SHORTER_FORMS = (1, 2, 3)  # which shorter reading of each slot value to try, longest first
_BODY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("opener", "proof", "offer", "closer"),
    ("opener", "offer", "closer"),
    ("opener", "proof", "closer"),
    ("opener", "closer"),
    ("opener", "offer"),
    ("opener",),
)


def _slots(facts: BriefFacts, lang: Language, tone: Tone) -> _Slots:
    """The brief's facts as template slot values, each with shorter forms for tight limits."""
    words = facts.product.split()
    brand = words[0] if len(words) > 1 and len(words[0]) > 2 and normalize(words[0]) not in STOPWORDS[lang] else None
    slots: _Slots = {"product": [_forms(facts.product, (brand,) if brand else ())]}
    if facts.audience:
        # The head noun: last in English ("B2B SaaS marketers"), first in Spanish ("equipos de marketing").
        head = facts.audience.split()[-1 if lang == "en" else 0]
        slots["audience"] = [_forms(facts.audience, (head,))]
    slots["benefit"] = [_forms(b, _shorter(b, lang, first_words=True)) for b in facts.benefits[:4]]
    if facts.offer:
        slots["offer"] = [_forms(facts.offer, _shorter(facts.offer, lang))]
    cta = facts.call_to_action or tpl.DEFAULT_CTAS[lang][tone][0]
    slots["cta"] = [_forms(cta, _shorter(cta, lang))]
    in_benefits = {normalize(b) for b in facts.benefits}
    proofs = [p for p in facts.proof_points if not any(normalize(p) in b or b in normalize(p) for b in in_benefits)]
    slots["proof"] = [_forms(p, _shorter(p, lang)) for p in proofs[:2]]
    pain = _pain(facts.benefits, lang)
    slots["pain"] = [_forms(pain, ())] if pain else []
    slots["keyword"] = [(k,) for k in facts.keywords[:4]]
    return {name: values for name, values in slots.items() if values}


def _timed(cta: str) -> bool:
    """Whether a call to action already says when ("Sign up today"), so templates add no "today" of their own."""
    words = normalize(cta).split()
    return bool(words) and words[-1] in _TIME_WORDS


def _forms(text: str, shorter: Iterable[str]) -> tuple[str, ...]:
    """A slot value's readings, longest first, without blanks or repeats."""
    return tuple(dict.fromkeys(f for f in (text, *shorter) if f.strip()))


def _shorter(phrase: str, lang: Language, first_words: bool = False) -> tuple[str, ...]:
    """Shorter readings: without trailing modifiers ("... by 60%"), then (``first_words``) its first few words."""
    # Only verb phrases such as benefits keep their sense in their first words ("reduce el tiempo").
    words = phrase.split()
    preps = {"en": {"by", "with", "for", "in", "across", "from", "using", "through", "on", "at", "per"},
             "es": {"en", "con", "para", "por", "desde", "hasta", "un", "una", "al"}}[lang]  # fmt: skip
    forms = [" ".join(words[:i]) for i in range(len(words) - 1, 1, -1) if normalize(words[i]) in preps]
    forms += [" ".join(words[:n]) for n in (4, 3) if len(words) > n and first_words]
    return tuple(dict.fromkeys(t for t in (_tidy_end(f, words=True) for f in forms) if t))


def _pain(benefits: list[str], lang: Language) -> str | None:
    """ "Struggling with <what the first reducing benefit removes>", if a benefit reduces something."""
    for benefit in benefits:
        verb, _, rest = benefit.partition(" ")
        if normalize(verb) in tpl.PAIN_VERBS[lang] and rest:
            shortest = _shorter(rest, lang)
            obj = next((f for f in shortest if len(f.split()) >= 2), rest) if shortest else rest
            return tpl.PAIN[lang].format(object=obj)
    return None


def _render_all(templates: Iterable[str], slots: _Slots, form: int, lang: Language) -> list[str]:
    """Every template whose slots the brief fills, over each combination of values (at most six per template)."""
    out: list[str] = []
    for template in templates:
        names = list(dict.fromkeys(_SLOT.findall(template)))
        if any(name not in slots for name in names):
            continue
        if _AFTER_TIMED_CTA.search(template) and _timed(slots["cta"][0][0]):
            template = _AFTER_TIMED_CTA.sub("{cta}", template)
        choices = [slots[name] for name in names]
        for index, values in enumerate(combinations(*choices)):
            if index == 6:
                break
            chosen = {n: v[min(form, len(v) - 1)] for n, v in zip(names, values, strict=True)}
            out.append(_render(template, chosen, lang))
    return out


def _body(
    slots: _Slots, lang: Language, tone: Tone, openers: list[str], level: tuple[str, ...], form: int
) -> list[str]:
    """Bodies at one level of detail: each opener followed by proof, offer and closer sentences as the level says."""
    parts = {
        "proof": _render_all(tpl.BODY_PROOF[lang], slots, form, lang)[:1],
        "offer": _render_all(tpl.BODY_OFFER[lang], slots, form, lang)[:1],
        "closer": _render_all([tpl.BODY_CLOSERS[lang][tone]], slots, form, lang)[:1],
    }
    if any(not parts[name] for name in level if name != "opener"):
        return []
    tail = " ".join(parts[name][0] for name in level if name != "opener")
    return [f"{opener} {tail}".strip() for opener in _render_all(openers, slots, form, lang)]


def _render(template: str, values: dict[str, str], lang: Language) -> str:
    """Fill a template: slot text is capitalised at a sentence start and lower-cased where a common word starts it."""
    out: list[str] = []
    position = 0
    for m in _SLOT.finditer(template):
        out.append(template[position : m.start()])
        value = values[m.group(1)].strip().rstrip(".,;:!?…")
        before = "".join(out).rstrip(" ¿¡\"'")
        out.append(_capitalise(value) if not before or before[-1] in ".!?" else _lower_common(value, lang))
        position = m.end()
    out.append(template[position:])
    return "".join(out)


def _capitalise(text: str) -> str:
    """Upper-case the first letter unless its word already mixes cases ("iPhone") or it would change length."""
    for index, ch in enumerate(text):
        if ch.isalpha():
            word = re.match(r"\w+", text[index:])
            mixed = word is not None and any(c.isupper() for c in word.group()[1:])
            upper = ch.upper()
            return text if mixed or len(upper) != 1 else text[:index] + upper + text[index + 1 :]
        if ch.isdigit():
            return text
    return text


def _lower_common(text: str, lang: Language) -> str:
    """Lower-case a Titlecase first word when it is a common word or verb, not a name ("Cut costs" -> "cut costs")."""
    word = re.match(r"\w+", text)
    if word is None or not word.group().istitle() or len(word.group()) < 2:
        return text
    common = STOPWORDS[lang] | tpl.BENEFIT_VERBS[lang] | tpl.CTA_VERBS[lang]
    return text[0].lower() + text[1:] if normalize(word.group()) in common else text


def _finish(text: str, kind: str, tone: Tone) -> str:
    """Tidy spacing and punctuation, apply the tone's "!" budget, sentence case; paths lose their spaces."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:?!…])", r"\1", text)
    text = re.sub(r"([.?!…])\.+", r"\1", text)
    text = re.sub(r":\.", ".", text)
    text = _limit_exclamations(text, 0 if tone == "professional" else 1)
    text = _tidy_end(text) if kind in ("headline", "cta", "subject", "path") else text.strip()
    if kind == "path":
        return "-".join(_capitalise(w) for w in re.findall(r"[^\W_]+", text))
    return _sentence_case(text)


def _limit_exclamations(text: str, allowed: int) -> str:
    """Keep at most ``allowed`` "!" (the last); the others become full stops, and orphaned "¡" go."""
    bangs = [i for i, ch in enumerate(text) if ch == "!"]
    drop = set(bangs[: len(bangs) - allowed]) if len(bangs) > allowed else set()
    chars = ["." if i in drop else ch for i, ch in enumerate(text)]
    result = re.sub(r"\.([.,;:?])", r"\1", "".join(chars))
    if "!" not in result:
        result = result.replace("¡", "")
    elif result.count("¡") > 1:
        last = result.rfind("¡", 0, result.find("!"))
        result = "".join(ch for i, ch in enumerate(result) if ch != "¡" or i == last)
    return re.sub(r"\.\.+", ".", result).strip()


def _sentence_case(text: str) -> str:
    """Capitalise the first letter of every sentence."""
    pieces = re.split(r"((?<=[.?!])\s+)", text)
    return "".join(_capitalise(piece) if i % 2 == 0 else piece for i, piece in enumerate(pieces))


def _tidy_end(text: str, words: bool = False) -> str:
    """Drop what a cut leaves dangling: punctuation, unmatched "¿¡(" and (``words``) connectors like "with"."""
    previous = None
    while previous != text:
        previous = text
        text = text.rstrip(_DANGLING)
        head, _, last = text.rpartition(" ")
        if words and head and normalize(last) in tpl.TRAILING_STOPWORDS:
            text = head
    for opener, closer in (("¿", "?"), ("¡", "!"), ("(", ")")):
        if opener in text and closer not in text[text.rfind(opener) :]:
            text = text.replace(opener, "", 1) if text.count(opener) == 1 else text
    return text.strip()


def _path_words(facts: BriefFacts) -> list[str]:
    """Single words and pairs for display paths (keywords, product, offer)."""
    words = [*facts.keywords, *facts.product.split(), *(facts.offer or "").split()]
    clean = [w for w in ("".join(re.findall(r"[^\W_]+", w)) for w in words) if w]
    pairs = [f"{a} {b}" for a, b in pairwise(clean)]
    return list(dict.fromkeys([*clean, *pairs]))

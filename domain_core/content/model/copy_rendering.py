"""Brief facts into finished candidate copy: template slots, rendering, tone, punctuation and sentence case."""

import re
from collections.abc import Iterable
from itertools import pairwise
from itertools import product as combinations
from typing import Literal

from promptsales.domain_core.content.model import copy_templates as tpl
from promptsales.domain_core.content.model.brief_parsing import BriefFacts
from promptsales.domain_core.content.model.copy_fitting import tidy_end
from promptsales.domain_core.content.model.copy_quality import find_superlatives, superlative_removals
from promptsales.domain_core.content.model.lexicons import STOPWORDS
from promptsales.domain_core.content.model.text_basics import Language, normalize

Tone = Literal["professional", "friendly", "bold", "playful", "urgent"]
SLOT = re.compile(r"\{(\w+)\}")
Slots = dict[str, list[tuple[str, ...]]]  # slot -> values, each with its forms longest first
# How much a slot says about the offering: a benefit sells more than the bare product name.
RICHNESS = {"benefit": 2.0, "pain": 1.5, "proof": 1.0, "offer": 1.0, "audience": 1.0, "product": 0.25, "cta": 0.25}
_TIME_WORDS = frozenset({"today", "now", "tonight", "hoy", "ya", "ahora"})
_AFTER_TIMED_CTA = re.compile(r"\{cta\}\s+(?:today|now|whenever you're ready|hoy|ya|cuando quieras)\b")
SHORTER_FORMS = (1, 2, 3)  # which shorter reading of each slot value to try, longest first
BODY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("opener", "proof", "offer", "closer"),
    ("opener", "offer", "closer"),
    ("opener", "proof", "closer"),
    ("opener", "closer"),
    ("opener", "offer"),
    ("opener",),
)


def fill_slots(facts: BriefFacts, lang: Language, tone: Tone) -> Slots:
    """The brief's facts as template slot values, each with shorter forms for tight limits."""
    words = facts.product.split()
    brand = words[0] if len(words) > 1 and len(words[0]) > 2 and normalize(words[0]) not in STOPWORDS[lang] else None
    slots: Slots = {"product": [_forms(facts.product, (brand,) if brand else ())]}
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
    return tuple(dict.fromkeys(t for t in (tidy_end(f, words=True) for f in forms) if t))


def _pain(benefits: list[str], lang: Language) -> str | None:
    """ "Struggling with <what the first reducing benefit removes>", if a benefit reduces something."""
    for benefit in benefits:
        verb, _, rest = benefit.partition(" ")
        if normalize(verb) in tpl.PAIN_VERBS[lang] and rest:
            shortest = _shorter(rest, lang)
            obj = next((f for f in shortest if len(f.split()) >= 2), rest) if shortest else rest
            return tpl.PAIN[lang].format(object=obj)
    return None


def render_all(templates: Iterable[str], slots: Slots, form: int, lang: Language) -> list[str]:
    """Every template whose slots the brief fills, over each combination of values (at most six per template)."""
    out: list[str] = []
    for template in templates:
        names = list(dict.fromkeys(SLOT.findall(template)))
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


def render_body(
    slots: Slots, lang: Language, tone: Tone, openers: list[str], level: tuple[str, ...], form: int
) -> list[str]:
    """Bodies at one level of detail: each opener followed by proof, offer and closer sentences as the level says."""
    parts = {
        "proof": render_all(tpl.BODY_PROOF[lang], slots, form, lang)[:1],
        "offer": render_all(tpl.BODY_OFFER[lang], slots, form, lang)[:1],
        "closer": render_all([tpl.BODY_CLOSERS[lang][tone]], slots, form, lang)[:1],
    }
    if any(not parts[name] for name in level if name != "opener"):
        return []
    tail = " ".join(parts[name][0] for name in level if name != "opener")
    return [f"{opener} {tail}".strip() for opener in render_all(openers, slots, form, lang)]


def _render(template: str, values: dict[str, str], lang: Language) -> str:
    """Fill a template: slot text is capitalised at a sentence start and lower-cased where a common word starts it."""
    out: list[str] = []
    position = 0
    for m in SLOT.finditer(template):
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


def finish(text: str, kind: str, tone: Tone) -> str:
    """Tidy spacing and punctuation, one superlative at most, the tone's "!" budget, sentence case; paths lose
    their spaces."""
    text = _one_superlative(re.sub(r"\s+", " ", text).strip())
    text = re.sub(r"\s+([.,;:?!…])", r"\1", text)
    text = re.sub(r"([.?!…])\.+", r"\1", text)
    text = re.sub(r":\.", ".", text)
    text = _limit_exclamations(text, 0 if tone == "professional" else 1)
    text = tidy_end(text) if kind in ("headline", "cta", "subject", "path") else text.strip()
    if kind == "path":
        return "-".join(_capitalise(w) for w in re.findall(r"[^\W_]+", text))
    return _sentence_case(text)


def _one_superlative(text: str) -> str:
    """The brief's hype, trimmed: superlatives after the first are dropped."""
    for start, end in reversed(superlative_removals(text, find_superlatives(text))):
        text = text[:start] + text[end:]
    return text


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


def path_words(facts: BriefFacts) -> list[str]:
    """Single words and pairs for display paths (keywords, product, offer)."""
    words = [*facts.keywords, *facts.product.split(), *(facts.offer or "").split()]
    clean = [w for w in ("".join(re.findall(r"[^\W_]+", w)) for w in words) if w]
    pairs = [f"{a} {b}" for a, b in pairwise(clean)]
    return list(dict.fromkeys([*clean, *pairs]))

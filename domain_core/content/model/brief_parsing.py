"""Reading a free-text copy brief: product, audience, benefits, offer, call to action, keywords and proof.

Simple, deterministic rules on an NFC text without emoji, "!" or control characters; shouted words are
softened so that copy written from the facts never shouts either. Compliance lines ("Reply STOP to opt out")
are set aside verbatim first: they are requirements, never material for a headline or a call to action.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

import regex  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict

from promptsales.domain_core.content.model import copy_templates as tpl
from promptsales.domain_core.content.model.copy_quality import find_compliance
from promptsales.domain_core.content.model.lexicons import STOPWORDS
from promptsales.domain_core.content.model.text_basics import (
    Folded,
    Language,
    normalize,
    require_language,
    require_text,
)

_EMOJI = regex.compile(
    r"(?:\p{Extended_Pictographic}|\p{Regional_Indicator})(?:\uFE0F|\u20E3|\p{Emoji_Modifier}"
    r"|\u200D(?:\p{Extended_Pictographic}|\p{Regional_Indicator}))*\u200D?|[#*0-9]\uFE0F?\u20E3"
    r"|[\uFE0F\u20E3\p{Emoji_Modifier}]"
)
# Joiners and combining marks beside a space belong to no letter: left there they would fuse with the space.
_LOOSE_MARKS = regex.compile(r"(?:(?<=^|\s)[\p{Cf}\p{Mn}\p{Me}]+)|(?:\p{Cf}+(?=\s|$))")
_CLAUSE_SPLIT = re.compile(r"[;•·|\n]+|(?<=[.?!…:])\s+|,\s+|\s[-\u2013\u2014]\s")
_QUOTED = re.compile(r"[\"\u201c\u00ab]([^\"\u201d\u00bb\n]{2,60})[\"\u201d\u00bb]")
_TOKEN = re.compile(r"[^\W_][\w&+.'-]*")
_EDGE = " .,:;-\u2013\u2014!?¡¿\"'()[]{}\u201c\u201d\u00ab\u00bb…/&*#"
_ALWAYS_CAPS = frozenset({"STOP", "HELP", "BAJA"})  # carrier opt-out keywords stay in capitals


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
    compliance: list[str] = []


def parse_brief(text: str, language: str) -> BriefFacts:
    """Facts from a free-text brief by simple rules (emoji, "!" and control characters are dropped first)."""
    lang = require_language(language)
    clean, compliance = _set_aside_compliance(_clean(require_text(text, "brief")))
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
        compliance=compliance,
    )


def compliance_lines(text: str) -> list[str]:
    """The brief's compliance lines as sentences ("Reply STOP to opt out."), in order."""
    return _set_aside_compliance(_clean(require_text(text, "brief")))[1]


def _set_aside_compliance(clean: str) -> tuple[str, list[str]]:
    """The brief without its compliance lines, and those lines as sentences (verbatim, STOP kept in capitals)."""
    lines = find_compliance(clean)
    for line in reversed(lines):
        clean = clean[: line.start] + "\n" + clean[line.end :]
    kept = (_trim(line.text) for line in lines)
    return clean, list(dict.fromkeys(f"{line[:1].upper()}{line[1:]}." for line in kept if line))


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
    if quoted and _trim(quoted.group(1)):
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

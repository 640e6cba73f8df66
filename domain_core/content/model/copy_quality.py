"""Copy quality beyond platform limits: repeated items, filler tacked onto compliance lines, stacked superlatives.

Decisions worth knowing:
- Two items repeat when they read the same once case, accents, punctuation and emoji are set aside
  (``repetition_key``): "Book a demo!" and "book a demo 🚀" are one text said twice.
- A compliance line is an opt-out instruction ("Reply STOP to opt out", "Responde BAJA para darte de baja") or a
  rates notice ("Msg & data rates may apply"). Carriers and regulators expect them plain: words, "!" or emoji
  after one in its sentence ("Reply STOP to opt out today!") are filler. A HELP instruction or another
  compliance line may follow.
- Superlatives and hype words ("amazing", "ultimate", "the most incredible", a phrase-final "ever") are counted
  per item; one reads as enthusiasm, more as noise. Text inside a required phrase or a substantiated claim is
  exempt.
"""

from dataclasses import dataclass

import regex  # type: ignore[import-untyped]

from promptsales.domain_core.content.model.text_basics import Folded, normalize
from promptsales.domain_core.content.model.text_measure import clusters, is_emoji

MAX_SUPERLATIVES = 1
_WORDS = regex.compile(r"[\p{L}\p{N}]+")

# Patterns run on the folded text (casefolded, accents removed).
_OPT_OUT_KEYWORD = r"[\"']?(?:stop|stopall|end|cancel|quit|unsubscribe|baja|alto|fin|cancelar)[\"']?"
_OPT_OUT_PURPOSE = (
    r"(?:(?:to|for)\s+(?:opt[\s-]?out|unsubscribe|cancel|end|stop|quit)"
    r"(?:\s+(?:of|from)\s+(?:future\s+)?(?:messages|texts|msgs|alerts|marketing(?:\s+messages)?))?"
    r"|para\s+(?:darte\s+de\s+baja|darse\s+de\s+baja|cancelar|no\s+recibir\s+mas\s+(?:mensajes|sms)"
    r"|dejar\s+de\s+recibir\s+(?:mensajes|sms)))"
)
_COMPLIANCE = regex.compile(
    "|".join(
        (
            rf"(?<!\w)(?:reply|text|txt|send|respond\s+with|responde|responda|envia|envie|escribe|escriba|manda)"
            rf"\s+{_OPT_OUT_KEYWORD}(?:\s+{_OPT_OUT_PURPOSE})?(?!\w)",
            r"(?<!\w)(?:to\s+)?(?:opt[\s-]?out|unsubscribe)(?:\s+(?:at\s+any\s+time|anytime))?,?\s+"
            r"(?:reply|text)\s+[\"']?stop[\"']?(?!\w)",
            r"(?<!\w)(?:para\s+)?(?:darte|darse)\s+de\s+baja,?\s+(?:responde|envia|escribe)\s+[\"']?(?:stop|baja)[\"']?"
            r"(?!\w)",
            r"(?<!\w)(?:msg|message|messages)\s*(?:&|and)\s*data\s+rates\s+may\s+apply(?!\w)",
            r"(?<!\w)(?:se\s+aplican|pueden\s+aplicar(?:se)?)\s+(?:tarifas|cargos)(?:\s+de\s+(?:mensajes|sms|datos)"
            r"(?:\s+y\s+datos)?)?(?!\w)",
        )
    )
)
# What may follow a compliance line in its sentence: a HELP instruction.
_CONTINUATION = regex.compile(
    r"[,;]?\s*(?:(?:reply|text|responde|envia)\s+)?[\"']?(?:help|ayuda)[\"']?"
    r"(?:\s+(?:for\s+(?:help|info)|para\s+(?:ayuda|informacion)))?(?!\w)"
)
_SENTENCE_END = ".?!\n"

_HYPE_WORDS_EN = (
    r"amazing|awesome|incredible|unbelievable|revolutionary|game[\s-]?chang(?:ing|er)|world[\s-]class"
    r"|cutting[\s-]edge|state[\s-]of[\s-]the[\s-]art|unbeatable|unmatched|unrivall?ed|unparall?eled|ultimate"
    r"|greatest|perfect|industry[\s-]leading|leading|insane|mind[\s-]?blowing|epic|phenomenal|fantastic"
    r"|spectacular|extraordinary|next[\s-]level"
)
_HYPE_WORDS_ES = (
    r"increibles?|asombros[oa]s?|revolucionari[oa]s?|insuperables?|inigualables?|impresionantes?"
    r"|espectaculares?|fantastic[oa]s?|perfect[oa]s?|definitiv[oa]s?|lider(?:es)?|epic[oa]s?"
    r"|extraordinari[oa]s?|nunca\s+vist[oa]|jamas\s+vist[oa]"
)
_HYPE = regex.compile(
    rf"(?<!\w)(?:(?:(?:the\s+)?most|very|truly|really|so|(?:(?:el|la|lo|los|las)\s+)?mas|muy)\s+)?"
    rf"(?:{_HYPE_WORDS_EN}|{_HYPE_WORDS_ES})(?!\w)"
    r"|(?<!\w)ever(?!\s*[\p{L}\p{N}])"
)
# A removed superlative takes the list glue before it along ("fast, amazing" -> "fast").
_GLUE_BEFORE = regex.compile(r"(?:\s*,|\s+(?:and|y|e))\s*$")


@dataclass(frozen=True, slots=True)
class Span:
    """``text[start:end]`` with the matched words."""

    start: int
    end: int
    text: str


def repetition_key(text: str) -> str:
    """What an item says, without case, accents, punctuation or emoji: equal keys are the same text twice."""
    return " ".join(_WORDS.findall(normalize(text)))


def _spans(pattern: "regex.Pattern[str]", text: str) -> list[Span]:
    folded = Folded.of(text)
    found = []
    for match in pattern.finditer(folded.text):
        start, end = folded.span(match.start(), match.end())
        found.append(Span(start, end, text[start:end]))
    return found


def _inside(span: Span, exempt: list[Span]) -> bool:
    return any(other.start <= span.start and span.end <= other.end for other in exempt)


def find_compliance(text: str) -> list[Span]:
    """Opt-out instructions and rates notices in ``text``."""
    return _spans(_COMPLIANCE, text)


def compliance_filler(text: str, exempt: list[Span] | None = None) -> list[Span]:
    """The filler after each compliance line in its sentence (to be replaced by "."), outside ``exempt``."""
    folded = Folded.of(text)
    lines = [(match.start(), match.end()) for match in _COMPLIANCE.finditer(folded.text)]
    ends = dict(lines)
    found = []
    for _, end in lines:
        while True:  # a HELP instruction or another compliance line may follow
            more = _CONTINUATION.match(folded.text, end)
            following = next(
                (start for start in ends if start >= end and not folded.text[end:start].strip(" ,;")), None
            )
            if more is not None and more.end() > end:
                end = more.end()
            elif following is not None:
                end = ends[following]
            else:
                break
        stop = end
        while stop < len(folded.text) and folded.text[stop] not in _SENTENCE_END:
            stop += 1
        closing = folded.text[stop] if stop < len(folded.text) else ""
        after = stop + 1 if closing else stop
        rest = text[folded.start(after) :]
        decorated = bool(rest.strip()) and not any(ch.isalnum() for ch in rest) and _has_emoji(rest)
        if not (folded.text[end:stop].strip() or closing == "!" or decorated):
            continue
        start_at, end_at = folded.start(end), len(text) if decorated else folded.start(after)
        filler = Span(start_at, end_at, text[start_at:end_at])
        if not _inside(filler, exempt or []):
            found.append(filler)
    return found


def _has_emoji(text: str) -> bool:
    return any(is_emoji(cluster) for cluster in clusters(text))


def find_superlatives(text: str, exempt: list[Span] | None = None) -> list[Span]:
    """Superlatives and hype words in ``text`` (outside ``exempt`` spans), in order."""
    return [span for span in _spans(_HYPE, text) if not _inside(span, exempt or [])]


def superlative_removals(text: str, spans: list[Span]) -> list[tuple[int, int]]:
    """Spans to delete so that only the first ``MAX_SUPERLATIVES`` of ``spans`` stay (with list glue before)."""
    removals = []
    for span in spans[MAX_SUPERLATIVES:]:
        glue = _GLUE_BEFORE.search(text[: span.start])
        removals.append((glue.start() if glue else span.start, span.end))
    return removals

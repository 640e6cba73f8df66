"""Time horizons in free-text replies: "It's pretty urgent for us", "next quarter", "en dos semanas".

A horizon is the number of days within which the person wants something done (an upper bound): "this
month" is 31, "next quarter" 183. "No rush" or "no sé" read as no horizon at all. Dates that need today's
date ("by March", "Q3") are left to other readers, so the result never depends on the clock.
"""

import re
from dataclasses import dataclass

from promptsales.domain_core.crm.model.reply_text import FEW, NUMBER_WORDS, find, negated, number_from_words

_PHRASE_DAYS: dict[str, float] = {
    **dict.fromkeys(("tomorrow", "manana", "today", "hoy", "tonight", "esta noche"), 1),
    **dict.fromkeys(
        (
            "asap", "as soon as possible", "urgent", "urgently", "very urgent", "pretty urgent", "urgente",
            "urgentes", "right away", "right now", "immediately", "immediate", "ahora mismo", "ya mismo",
            "inmediatamente", "de inmediato", "inmediato", "lo antes posible", "cuanto antes",
            "lo mas pronto posible", "yesterday", "para ayer", "this week", "esta semana", "within days",
            "in a few days", "a few days", "en unos dias", "en pocos dias", "en dias",
        ),
        7,
    ),
    **dict.fromkeys(("next week", "la semana que viene", "la proxima semana", "la semana proxima"), 14),
    **dict.fromkeys(("a couple of weeks", "in a couple of weeks", "un par de semanas"), 14),
    **dict.fromkeys(
        ("in a few weeks", "a few weeks", "within weeks", "en unas semanas", "en pocas semanas", "en semanas"), 28
    ),
    **dict.fromkeys(
        (
            "this month", "este mes", "within a month", "in a month", "en un mes", "dentro de un mes",
            "end of the month", "end of month", "fin de mes", "finales de mes", "a finales de mes",
        ),
        31,
    ),
    **dict.fromkeys(
        (
            "next month", "el mes que viene", "el proximo mes", "el mes proximo", "el siguiente mes",
            "a couple of months", "in a couple of months", "un par de meses", "soon", "pronto", "shortly",
        ),
        61,
    ),
    **dict.fromkeys(
        (
            "this quarter", "este trimestre", "end of the quarter", "end of quarter", "fin de trimestre",
            "within three months", "next few months", "the next few months", "coming months",
            "the coming months", "los proximos meses", "en los proximos meses", "proximos meses",
        ),
        92,
    ),
    **dict.fromkeys(("a few months", "in a few months", "unos meses", "en unos meses", "unos pocos meses"), 120),
    **dict.fromkeys(
        (
            "next quarter", "el proximo trimestre", "el trimestre que viene", "el siguiente trimestre",
            "el trimestre proximo", "half a year", "medio ano", "six months", "seis meses",
        ),
        183,
    ),
    **dict.fromkeys(
        (
            "this year", "este ano", "end of the year", "end of year", "by year end", "year end",
            "fin de ano", "finales de ano", "a finales de ano", "later this year", "mas adelante este ano",
            "within a year", "in a year", "en un ano", "dentro de un ano", "next semester",
            "el proximo semestre", "second half", "segundo semestre", "this fiscal year", "este ejercicio",
        ),
        365,
    ),
    **dict.fromkeys(
        (
            "next year", "el ano que viene", "el proximo ano", "el ano proximo", "el siguiente ano",
            "in a year or two", "en un ano o dos", "a couple of years", "un par de anos",
        ),
        730,
    ),
}  # fmt: skip
# Replies that say there is no horizon (or that the person does not know one).
NO_HORIZON = (
    "no rush", "no hurry", "not in a hurry", "in no hurry", "no timeline", "no set timeline", "no deadline",
    "no fixed date", "no date", "not urgent", "nothing urgent", "no es urgente", "nada urgente", "sin prisa",
    "no hay prisa", "no tenemos prisa", "no corre prisa", "sin fecha", "sin plazo", "no tenemos fecha",
    "no tenemos plazo", "someday", "some day", "algun dia", "whenever", "cuando sea",
    "when we can", "cuando podamos", "not sure", "no se", "no lo se", "no idea", "ni idea", "dont know",
    "don't know", "do not know", "tbd", "to be decided", "to be determined", "por definir", "undecided",
    "not decided", "no lo hemos decidido", "sin definir", "not yet", "todavia no", "aun no",
    "no timeline yet", "no plans", "no hay planes",
)  # fmt: skip
_UNIT_DAYS = {
    "day": 1, "days": 1, "dia": 1, "dias": 1, "week": 7, "weeks": 7, "semana": 7, "semanas": 7,
    "month": 30.5, "months": 30.5, "mes": 30.5, "meses": 30.5, "quarter": 91.5, "quarters": 91.5,
    "trimestre": 91.5, "trimestres": 91.5, "year": 365, "years": 365, "ano": 365, "anos": 365,
}  # fmt: skip
_COUNT_THEN_UNIT = re.compile(
    r"(?<![a-z0-9])(?P<count>\d+(?:[.,]\d+)?|(?:(?:"
    + "|".join(sorted((w for w in NUMBER_WORDS if w not in ("and", "y")), key=len, reverse=True))
    + r"|couple|par|few|pocos|pocas|unos|unas|several|varios)\s+(?:of\s+|de\s+)?)+)\s*(?P<unit>"
    + "|".join(sorted(_UNIT_DAYS, key=len, reverse=True))
    + r")(?![a-z0-9])"
)


@dataclass(frozen=True, slots=True)
class Horizon:
    """Within how many days (None: no horizon at all), and where the reply says so."""

    days: float | None
    start: int


def _count(raw: str) -> float | None:
    text = raw.strip()
    if text[0].isdigit():
        return float(text.replace(",", "."))
    tokens = [t for t in text.split() if t not in ("of", "de")]
    few = [FEW[t] for t in tokens if t in FEW]
    return float(few[0]) if few else number_from_words(tokens)


def read_horizons(folded: str) -> list[Horizon]:
    """Every horizon stated (not negated) in a folded reply, in text order."""
    found: list[Horizon] = []
    taken: list[tuple[int, int]] = []
    for hit in find(folded, NO_HORIZON):
        found.append(Horizon(None, hit.start))
        taken.append((hit.start, hit.end))
    for match in _COUNT_THEN_UNIT.finditer(folded):
        count = _count(match.group("count"))
        if count is None or any(s < match.end() and match.start() < e for s, e in taken):
            continue
        taken.append((match.start(), match.end()))
        if not negated(folded, match.start()):
            found.append(Horizon(count * _UNIT_DAYS[match.group("unit")], match.start()))
    for hit in find(folded, _PHRASE_DAYS):
        if any(s < hit.end and hit.start < e for s, e in taken) or negated(folded, hit.start):
            continue
        found.append(Horizon(_PHRASE_DAYS[" ".join(hit.phrase.split())], hit.start))
    return sorted(found, key=lambda h: h.start)

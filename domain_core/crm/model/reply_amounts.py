"""Money amounts in free-text replies: "about 50k USD", "unos 50.000 euros", "between 10 and 20 thousand".

An amount reads as an interval: an exact or approximate figure is a point, "over 50k" is open above,
"up to 30k" is closed below zero, and ranges keep both ends. Numbers that count something else ("50 people",
"in 3 months") or that a negation rules out ("we don't have 50k") are not amounts.
"""

import math
import re
from dataclasses import dataclass

from promptsales.domain_core.crm.model.reply_text import NUMBER_WORDS, negated, number_from_words

_TOKEN = re.compile(r"us\$|[$\u20ac\u00a3]|\d+(?:[.,]\d+)*|[a-z]+(?:'[a-z]+)?|[-~]")
_CURRENCY_SYMBOLS = {"$": "USD", "us$": "USD", "\u20ac": "EUR", "\u00a3": "GBP"}
_CURRENCY_WORDS = {
    "usd": "USD", "dollar": "USD", "dollars": "USD", "dolar": "USD", "dolares": "USD", "bucks": "USD",
    "eur": "EUR", "euro": "EUR", "euros": "EUR", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
    "libras": "GBP", "mxn": "MXN", "pesos": "MXN", "cop": "COP", "clp": "CLP", "ars": "ARS",
}  # fmt: skip
_MULTIPLIERS = {
    "k": 1e3, "mil": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6,
    "millions": 1e6, "millon": 1e6, "millones": 1e6, "bn": 1e9, "billion": 1e9,
}  # fmt: skip
# Words after a number that make it a count or a duration, not money.
_NOT_MONEY = frozenset(
    {
        "people", "person", "persons", "employees", "staff", "users", "seats", "licenses", "licences", "agents",
        "reps", "customers", "clients", "stores", "locations", "offices", "days", "day", "weeks", "week",
        "months", "month", "years", "year", "hours", "hour", "minutes", "quarters", "percent", "times",
        "personas", "empleados", "usuarios", "licencias", "agentes", "clientes", "tiendas", "sucursales",
        "oficinas", "dias", "dia", "semanas", "semana", "meses", "mes", "anos", "ano", "horas", "hora",
        "minutos", "trimestres", "veces", "por", "x",
    }
)  # fmt: skip
_MONEY_WORDS = re.compile(
    r"\b(?:budget|budgets|spend|spending|invest|pay|price|cost|afford|presupuesto|gastar|gasto|invertir"
    r"|inversion|pagar|precio|coste|costo)\b"
)
_ABOVE = re.compile(
    r"(?:over|more than|above|at least|upwards of|north of|in excess of|mas de|por encima de|arriba de"
    r"|al menos|como minimo|minimo|superior a|\+)\s*$"
)
_BELOW = re.compile(
    r"(?:under|less than|below|up to|at most|max|maximum|no more than|tops|menos de|por debajo de|hasta"
    r"|como maximo|maximo|inferior a)\s*$"
)
_BETWEEN = re.compile(r"(?:between|entre|from|de|desde)\s*$")
_RANGE_LINKS = frozenset({"-", "to", "and", "y", "a", "or", "o"})
_YEAR_CUES = re.compile(r"(?:in|by|for|since|until|en|para|de|del|desde|hasta)\s*$")


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount as an interval ``low..high`` (``math.inf`` when open above) with what made it money."""

    low: float
    high: float
    kind: str  # point, above, below, range
    currency: str | None
    strong: bool  # a currency, a multiplier, a bound word or a money word says this is money
    start: int
    end: int


@dataclass
class _Figure:
    value: float
    currency: str | None
    scale: float  # the multiplier applied ("k": 1000), 1 when none
    start: int
    end: int
    next_index: int

    @property
    def multiplier(self) -> bool:
        """Whether a multiplier word made this figure ("50k", "50 mil")."""
        return self.scale != 1.0


def _digits(raw: str) -> float | None:
    """A digit string with "." or "," as thousands groups (groups of three) or a decimal mark."""
    grouped = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})+)(?:[.,](\d{1,2}))?", raw)
    if grouped:
        return float(re.sub(r"[.,]", "", grouped.group(1)) + "." + (grouped.group(2) or "0"))
    plain = re.fullmatch(r"(\d+)(?:[.,](\d+))?", raw)
    return float(plain.group(1) + "." + (plain.group(2) or "0")) if plain else None


def _figure(folded: str, tokens: list[re.Match[str]], index: int) -> _Figure | None:
    """A money figure starting at token ``index``: [currency] number [multiplier] [de] [currency]."""
    start = tokens[index].start()
    currency = None
    first = tokens[index].group()
    if first in _CURRENCY_SYMBOLS or first in ("usd", "eur", "gbp", "mxn"):
        currency = _CURRENCY_SYMBOLS.get(first) or _CURRENCY_WORDS[first]
        index += 1
        if index >= len(tokens):
            return None
    token = tokens[index].group()
    value: float | None
    if token[0].isdigit():
        value = _digits(token)
        end, index = tokens[index].end(), index + 1
        # "50 000": a space between digit groups of three is a thousands separator.
        while (
            index < len(tokens)
            and re.fullmatch(r"\d{3}", tokens[index].group())
            and folded[end : tokens[index].start()] == " "
            and value is not None
            and value < 1000
            and value == int(value)
        ):
            value = value * 1000 + float(tokens[index].group())
            end, index = tokens[index].end(), index + 1
    else:
        run: list[str] = []
        while index < len(tokens) and tokens[index].group() in NUMBER_WORDS:
            run.append(tokens[index].group())
            end, index = tokens[index].end(), index + 1
        while run and run[-1] in ("and", "y", "a", "un", "una"):
            run.pop()
        if not run or all(word in ("a", "an", "un", "una", "uno", "medio", "media", "half") for word in run):
            return None
        value = number_from_words(run)
    if value is None:
        return None
    scale = 1.0
    if index < len(tokens) and tokens[index].group() in _MULTIPLIERS:
        glued = tokens[index].start() == end
        word = tokens[index].group()
        if glued or word not in ("k", "m", "mm", "bn"):
            scale = _MULTIPLIERS[word]
            value *= scale
            end, index = tokens[index].end(), index + 1
    if index + 1 < len(tokens) and tokens[index].group() == "de" and tokens[index + 1].group() in _CURRENCY_WORDS:
        index += 1
    if index < len(tokens) and currency is None:
        word = tokens[index].group()
        if word in _CURRENCY_SYMBOLS or word in _CURRENCY_WORDS:
            currency = _CURRENCY_SYMBOLS.get(word) or _CURRENCY_WORDS[word]
            end, index = tokens[index].end(), index + 1
    return _Figure(value, currency, scale, start, end, index)


def _counts_something_else(tokens: list[re.Match[str]], figure: _Figure) -> bool:
    """A figure followed by a unit ("50 people", "3 meses") or a bare year ("by 2025") is not money."""
    if figure.currency or figure.multiplier:
        return False
    following = tokens[figure.next_index].group() if figure.next_index < len(tokens) else ""
    return following in _NOT_MONEY or following == "%"


def read_amounts(folded: str, *, counts: bool = False) -> list[Amount]:
    """Every amount stated (not negated) in a folded reply, in text order; ``counts`` keeps "50 people" too."""
    tokens = list(_TOKEN.finditer(folded))
    found: list[Amount] = []
    index = 0
    while index < len(tokens):
        figure = _figure(folded, tokens, index)
        if figure is None:
            index += 1
            continue
        index = figure.next_index
        if not counts and _counts_something_else(tokens, figure):
            continue
        before = folded[: figure.start]
        is_year = 1900 <= figure.value <= 2100 and not (figure.currency or figure.multiplier)
        if is_year and _YEAR_CUES.search(before):
            continue
        low = high = figure.value
        kind = "point"
        end, currency, multiplier = figure.end, figure.currency, figure.multiplier
        if index + 1 < len(tokens) and tokens[index].group() in _RANGE_LINKS:
            second = _figure(folded, tokens, index + 1)
            if second is not None and not _counts_something_else(tokens, second):
                top = second.value
                if not figure.multiplier and second.multiplier and figure.value * second.scale < top:
                    # "10-20k", "entre 10 y 20 mil": the multiplier of the upper end applies to both.
                    low = figure.value * second.scale
                high, kind, end = top, "range", second.end
                currency = currency or second.currency
                multiplier = multiplier or second.multiplier
                index = second.next_index
        if kind == "point" and (_ABOVE.search(before) or folded[end : end + 1] == "+"):
            high, kind = math.inf, "above"
        elif kind == "point" and _BELOW.search(before):
            low, kind = 0.0, "below"
        if negated(folded, figure.start):
            continue
        strong = bool(currency or multiplier or kind != "point" or _MONEY_WORDS.search(folded))
        found.append(Amount(low, high, kind, currency, strong, figure.start, end))
    return found

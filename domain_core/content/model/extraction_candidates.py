"""Typed values found in a text for field extraction: emails, links, dates, times, amounts, phones, numbers."""

import bisect
import re
from dataclasses import dataclass
from datetime import date

from promptsales.domain_core.content.model import lexicons as lex
from promptsales.domain_core.content.model.extraction_schema import JsonScalar
from promptsales.domain_core.content.model.text_basics import WORD, Folded, detect_language, stem

_MONTH = "|".join(sorted(lex.MONTHS, key=len, reverse=True))
_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_MULT = r"(?:\s?(?:k|mm|m|bn)(?!\w)|\s(?:mil|millones|millon|millions|million|thousand|grand)(?!\w))?"
_MULTIPLIERS = {"k": 1e3, "mil": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6,
                "millions": 1e6, "millon": 1e6, "millones": 1e6, "bn": 1e9}  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+")
_DATES = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])"),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|º|°)?\s+(?:of\s+|de\s+)?(?P<mn>{_MONTH})\b\.?,?\s+(?:de\s+|del\s+)?"
        r"(?P<y>\d{4})\b"
    ),
    re.compile(rf"\b(?P<mn>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?:de\s+)?(?P<y>\d{{4}})\b"),
    re.compile(r"\b(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})\b"),
)
_TIME_AFTER = re.compile(
    r"(?:\s*,)?\s*(?:at|a las|a la|@|t|-)?\s*(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::(?P<s>\d{2}))?"
    r"\s*(?P<ap>a\.?m\.?|p\.?m\.?|h|hrs|hs)?(?P<tz>z|utc|[+-]\d{2}:?\d{2})?(?!\w)"
)
_TIMES = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b|\b\d{1,2}\s?(?:am|pm|a\.m\.|p\.m\.)")
_MONEY = re.compile(
    rf"(?<![\w.,])(?:(?P<c1>us\$|\$|€|£|usd|eur|mxn|gbp|cop|clp)\s?(?P<n1>{_NUM})(?P<m1>{_MULT})"
    rf"|(?P<n2>{_NUM})(?P<m2>{_MULT})\s?(?:de\s)?(?P<c2>\$|€|£|usd|eur|mxn|gbp|dolares|dollars|euros|pesos))(?!\w)"
)
_PERCENT = re.compile(rf"(?<![\w.,])(?P<n1>{_NUM})\s?(?:%|percent|per cent|por ciento)")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \t().-]{5,20}\d(?!\w)")
_NUMBER = re.compile(rf"(?<![\w.,])(?P<n1>{_NUM})(?P<m1>k|m)?(?![\w%])")


@dataclass(frozen=True)
class Cand:
    """A typed value found in the text at source offsets ``start:end``."""

    kind: str
    start: int
    end: int
    value: JsonScalar
    text: str


class Doc:
    """The text with its typed candidates (emails, dates, amounts...), word positions and labelled spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = Folded.of(text)
        self.language = detect_language(text)
        self.lines = _line_spans(text)
        self._line_starts = [start for start, _ in self.lines]
        self.words = [(stem(m.group()), *self.folded.span(m.start(), m.end())) for m in WORD.finditer(self.folded.text)]
        self._word_starts = [start for _, start, _ in self.words]
        self.candidates: list[Cand] = []
        self._owner: list[str | None] = [None] * len(text)  # which kind of candidate first claimed each character
        self._scan()

    def line_of(self, offset: int) -> int:
        """Index of the line holding source offset ``offset``."""
        return max(0, bisect.bisect_right(self._line_starts, offset) - 1)

    def _add(self, kind: str, fstart: int, fend: int, value: JsonScalar | None, beside: str = "") -> None:
        """Keep a candidate unless an earlier, more specific one (other than kind ``beside``) covers its text."""
        start, end = self.folded.span(fstart, fend)
        if value is None or any(owner is not None and owner != beside for owner in self._owner[start:end]):
            return
        for index in range(start, end):
            self._owner[index] = self._owner[index] or kind
        self.candidates.append(Cand(kind, start, end, value, self.text[start:end]))

    def _scan(self) -> None:
        """Find candidates, most specific kinds first, so a date's digits never read as a phone or a number."""
        folded = self.folded.text
        for m in _EMAIL.finditer(folded):
            self._add("email", m.start(), m.end(), self.folded.quote(m.start(), m.end()))
        for m in _URL.finditer(folded):
            end = m.end() - len(m.group()) + len(m.group().rstrip(".,;:!?"))
            self._add("uri", m.start(), end, self.folded.quote(m.start(), end))
        for pattern in _DATES:
            for m in pattern.finditer(folded):
                self._add_date(m)
        for m in _TIMES.finditer(folded):
            self._add("time", m.start(), m.end(), m.group())
        for kind, pattern in (("money", _MONEY), ("percent", _PERCENT)):
            for m in pattern.finditer(folded):
                number, mult = m.group("n1") or m.group("n2"), m.groupdict().get("m1") or m.groupdict().get("m2")
                self._add(kind, m.start(), m.end(), _to_number(number, mult))
        for m in _PHONE.finditer(folded):
            self._add("phone", m.start(), m.end(), _phone(m.group()))
        for m in _NUMBER.finditer(folded):
            self._add("number", m.start(), m.end(), _to_number(m.group("n1"), m.group("m1")))

    def _add_date(self, m: re.Match[str]) -> None:
        """A valid calendar date (day/month order from the language when ambiguous) and its date-time if timed."""
        parts = m.groupdict()
        if parts.get("mn"):
            day, month = int(parts["d"]), lex.MONTHS[parts["mn"]]
        elif parts.get("a"):
            a, b = int(parts["a"]), int(parts["b"])
            day_first = a > 12 or (b <= 12 and self.language == "es")
            day, month = (a, b) if day_first else (b, a)
        else:
            day, month = int(parts["d"]), int(parts["m"])
        try:
            when = date(int(parts["y"]), month, day)
        except ValueError:
            return
        time = _TIME_AFTER.match(self.folded.text, m.end())
        stamp = _clock(time) if time and (time.group("mi") or time.group("ap")) else None
        if time and stamp:
            self._add("date-time", m.start(), time.end(), f"{when.isoformat()}T{stamp}")
        self._add("date", m.start(), m.end(), when.isoformat(), beside="date-time")

    def of_kind(self, kind: str, within: tuple[int, int] | None = None) -> list[Cand]:
        """Candidates of one kind, optionally only those inside a source span."""
        found = [c for c in self.candidates if c.kind == kind]
        return found if within is None else [c for c in found if within[0] <= c.start and c.end <= within[1]]

    def distance(self, terms: frozenset[str], cand: Cand) -> int | None:
        """Characters between the candidate and the nearest word naming the property on its line (None: too far)."""
        best: int | None = None
        line = self.line_of(cand.start)
        low = bisect.bisect_left(self._word_starts, cand.start - 80)
        high = bisect.bisect_right(self._word_starts, cand.end + 80)
        for word, start, end in self.words[low:high]:
            if word not in terms or self.line_of(start) != line:
                continue
            gap = cand.start - end if end <= cand.start else (start - cand.end + 10 if start >= cand.end else 0)
            if gap <= 60 and (best is None or gap < best):
                best = gap
        return best


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Source offsets of each line."""
    spans, offset = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((offset, offset + len(line)))
        offset += len(line)
    return spans


def _clock(time: re.Match[str]) -> str | None:
    """HH:MM:SS (plus zone) from a time match, or None when it is not a valid time of day."""
    hour, minute, second = int(time.group("h")), int(time.group("mi") or 0), int(time.group("s") or 0)
    meridiem = (time.group("ap") or "").replace(".", "")
    if meridiem in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = time.group("tz") or ""
    zone = "Z" if zone in ("z", "utc") else (f"{zone[:3]}:{zone[-2:]}" if zone else "")
    return f"{hour:02d}:{minute:02d}:{second:02d}{zone}"


def _to_number(number: str, multiplier: str | None) -> int | float | None:
    """A number written with either decimal convention ("1,234.5", "1.234,5", "20k", "1,5 millones")."""
    s = number
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        parts = s.split(sep)
        grouped = len(parts) > 2 or (len(parts[-1]) == 3 and parts[0] not in ("0", ""))
        s = s.replace(sep, "") if grouped else s.replace(sep, ".")
    try:
        value = round(float(s) * _MULTIPLIERS.get((multiplier or "").strip(), 1.0), 6)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _phone(raw: str) -> str | None:
    """A phone number as "+digits" or digits, or None when the span is more likely an amount, id or year list."""
    digits = re.sub(r"\D", "", raw)
    separated = re.search(r"[ \t().-]", raw) is not None
    if not 7 <= len(digits) <= 15 or re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return None
    if not raw.startswith("+") and not separated and len(digits) < 10:
        return None
    return ("+" if raw.startswith("+") else "") + digits

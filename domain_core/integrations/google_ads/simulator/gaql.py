"""The subset of the Google Ads Query Language the simulator answers (parsing only; no state).

Grammar as used by the client and by the reference's examples (platform_apis.md §2 "GAQL"):
``SELECT f1, f2 FROM resource [WHERE cond [AND cond]...] [ORDER BY field [ASC|DESC]] [LIMIT n]`` where a condition
is ``field = v``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``field IN (v, ...)``, ``field NOT IN (...)``,
``field BETWEEN 'a' AND 'b'`` or ``segments.date DURING LAST_7_DAYS|LAST_30_DAYS|YESTERDAY|TODAY``. Values are
numbers, single-quoted strings (``\\'`` escapes a quote [~]) or bare enum names.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta


class GaqlError(ValueError):
    """A query the simulator cannot run; ``code`` is the QueryError enum value Google would answer [~]."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Condition:
    """One WHERE condition: a field, an operator and its values (one, or two for BETWEEN, or a list for IN)."""

    field: str
    operator: str
    values: tuple[str | int | float, ...]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed GAQL query."""

    fields: tuple[str, ...]
    resource: str
    conditions: tuple[Condition, ...]
    order_by: tuple[str, bool] | None  # (field, descending)
    limit: int | None

    @property
    def wants_metrics(self) -> bool:
        """Whether metrics or the date segment were selected."""
        return any(f.startswith(("metrics.", "segments.")) for f in self.fields)

    @property
    def by_date(self) -> bool:
        """Whether rows are segmented by day."""
        return "segments.date" in self.fields

    def date_range(self, today: date) -> tuple[date, date] | None:
        """The day range the ``segments.date`` conditions select (None: no date condition)."""
        low: date | None = None
        high: date | None = None
        found = False
        for condition in self.conditions:
            if condition.field != "segments.date":
                continue
            found = True
            if condition.operator == "DURING":
                start, end = _during(str(condition.values[0]), today)
            elif condition.operator == "BETWEEN":
                start, end = _day(condition.values[0]), _day(condition.values[1])
            elif condition.operator in ("=", ">=", ">", "<=", "<"):
                day = _day(condition.values[0])
                start = {">": day + timedelta(days=1), "<": date.min, "<=": date.min}.get(condition.operator, day)
                end = {"<": day - timedelta(days=1), ">=": date.max, ">": date.max}.get(condition.operator, day)
            else:
                raise GaqlError(
                    "PROHIBITED_FILTER_ON_DATE_RANGE", f"{condition.operator} is not usable on segments.date"
                )
            low = start if low is None else max(low, start)
            high = end if high is None else min(high, end)
        if not found:
            return None
        assert low is not None and high is not None
        if low == date.min or high == date.max:
            raise GaqlError("EXPECTED_FILTERS_ON_DATE_RANGE", "segments.date needs a finite range")
        return low, high


_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>[a-z_]+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>[a-z_.]+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_FIELD = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_VALUE = r"'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*"
_CONDITION = re.compile(
    rf"\s*(?P<field>[a-z][a-z0-9_.]*)\s+(?:"
    rf"(?P<between>BETWEEN)\s+(?P<low>{_VALUE})\s+AND\s+(?P<high>{_VALUE})"
    rf"|(?P<in>NOT\s+IN|IN)\s*\((?P<list>[^)]*)\)"
    rf"|(?P<during>DURING)\s+(?P<period>[A-Z_0-9]+)"
    rf"|(?P<op>!=|>=|<=|=|>|<)\s*(?P<value>{_VALUE})"
    rf")\s*(?:AND\b|$)",
    re.IGNORECASE,
)


def _literal(text: str) -> str | int | float:
    text = text.strip()
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _day(value: object) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GaqlError("INVALID_VALUE_WITH_DURING_OPERATOR", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _during(period: str, today: date) -> tuple[date, date]:
    periods = {
        "TODAY": (today, today),
        "YESTERDAY": (today - timedelta(days=1), today - timedelta(days=1)),
        "LAST_7_DAYS": (today - timedelta(days=7), today - timedelta(days=1)),
        "LAST_14_DAYS": (today - timedelta(days=14), today - timedelta(days=1)),
        "LAST_30_DAYS": (today - timedelta(days=30), today - timedelta(days=1)),
    }
    if period.upper() not in periods:
        raise GaqlError("INVALID_VALUE_WITH_DURING_OPERATOR", f"{period} is not a supported DURING period")
    return periods[period.upper()]


def parse(text: str) -> Query:
    """Parse a GAQL query or raise :class:`GaqlError`."""
    match = _QUERY.match(text)
    if match is None:
        raise GaqlError("UNEXPECTED_INPUT", "Error in query: unexpected input.")
    fields = tuple(f.strip() for f in match.group("fields").split(","))
    for name in fields:
        if not _FIELD.fullmatch(name):
            raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{name}'.")
    conditions: list[Condition] = []
    where = match.group("where")
    position = 0
    while where is not None and position < len(where):
        found = _CONDITION.match(where, position)
        if found is None:
            raise GaqlError("UNEXPECTED_INPUT", f"Error in query near: '{where[position : position + 40]}'.")
        name = found.group("field")
        if found.group("between"):
            condition = Condition(name, "BETWEEN", (_literal(found.group("low")), _literal(found.group("high"))))
        elif found.group("in"):
            items = [i for i in re.findall(_VALUE, found.group("list"))]
            operator = "NOT IN" if found.group("in").upper().startswith("NOT") else "IN"
            condition = Condition(name, operator, tuple(_literal(i) for i in items))
        elif found.group("during"):
            condition = Condition(name, "DURING", (found.group("period"),))
        else:
            condition = Condition(name, found.group("op"), (_literal(found.group("value")),))
        conditions.append(condition)
        position = found.end()
    order = match.group("order")
    direction = (match.group("direction") or "ASC").upper()
    limit = match.group("limit")
    return Query(
        fields=fields,
        resource=match.group("resource").lower(),
        conditions=tuple(conditions),
        order_by=(order, direction == "DESC") if order else None,
        limit=int(limit) if limit else None,
    )


def matches(value: object, condition: Condition) -> bool:
    """Whether one field value satisfies a (non-date) condition; enums and ids compare as strings."""
    wanted = [str(v) for v in condition.values]
    actual = None if value is None else str(value)
    if condition.operator == "IN":
        return actual in wanted
    if condition.operator == "NOT IN":
        return actual not in wanted
    if condition.operator == "=":
        return actual == wanted[0]
    if condition.operator == "!=":
        return actual != wanted[0]
    if actual is None:
        return False
    if condition.operator not in (">", ">=", "<", "<="):
        raise GaqlError("PROHIBITED_FILTER_ON_DATE_RANGE", f"{condition.operator} is only usable on segments.date")
    try:
        order = _order(float(actual), float(wanted[0]))
    except ValueError:
        order = _order(actual, wanted[0])
    return {">": order > 0, ">=": order >= 0, "<": order < 0, "<=": order <= 0}[condition.operator]


def _order(left: float | str, right: float | str) -> int:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right`` (both numbers or both strings)."""
    if isinstance(left, str) or isinstance(right, str):
        left, right = str(left), str(right)
        return (left > right) - (left < right)
    return (left > right) - (left < right)

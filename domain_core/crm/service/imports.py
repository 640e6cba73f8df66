"""CSV lead import: parse rows into capture commands, reporting problems per row."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from pydantic import ValidationError

from promptsales.domain_core.crm.commands import CaptureLead
from promptsales.domain_core.crm.dto import ConsentGrant, ConsentInput
from promptsales.domain_core.crm.model.vocabulary import SourceChannel
from promptsales.domain_core.shared.errors import ValidationFailed

MAX_ROWS = 20_000
KNOWN_COLUMNS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "title",
        "company",
        "company_domain",
        "industry",
        "employee_count",
        "country",
        "region",
        "source",
        "campaign",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "referrer",
        "landing_page",
        "occurred_at",
        "consent_email",
        "consent_sms",
        "consent_whatsapp",
        "tags",
        "owner",
    }
)
MAX_EMPLOYEES = 10_000_000
# Command fields named differently as CSV columns.
_COLUMN_OF = {"campaign_ref": "campaign", "source_channel": "source"}
_TRUE = {"yes", "y", "true", "1", "si", "sí", "granted"}
_FALSE = {"no", "n", "false", "0", "revoked"}


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row: its number (1 = first row after the header), its capture command, and a content key."""

    number: int
    command: CaptureLead
    key: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be turned into capture arguments."""

    number: int
    field: str | None
    message: str


def _records(text: str) -> Iterator[list[str]]:
    """The CSV's rows as lists of cells; unreadable CSV (e.g. a huge cell) is a ValidationFailed."""
    reader = csv.reader(io.StringIO(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise ValidationFailed(
            f"The CSV could not be read at line {reader.line_num}: {exc}.", field="csv_text"
        ) from exc


def read_header(text: str) -> tuple[list[str], list[str]]:
    """The normalized column names and the unknown ones (ignored, reported)."""
    header = next(_records(text), None)
    if not header:
        raise ValidationFailed("The CSV is empty; the first line must be a header row.", field="csv_text")
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    if "email" not in columns and "phone" not in columns:
        raise ValidationFailed(
            "The CSV header needs an 'email' or a 'phone' column.",
            field="csv_text",
            hint=f"Known columns: {', '.join(sorted(KNOWN_COLUMNS))}.",
        )
    return columns, sorted(set(columns) - KNOWN_COLUMNS)


def _flag(value: str, column: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationFailed(f"{column} must be yes or no, got '{value}'.", field=column)


def _column(loc: tuple[int | str, ...]) -> str:
    """The CSV column a command field's validation error is about."""
    if loc and loc[0] == "utm" and len(loc) > 1:
        return f"utm_{loc[1]}"
    if loc and loc[0] == "tags":
        return "tags"
    name = str(loc[0]) if loc else "csv_text"
    return _COLUMN_OF.get(name, name)


def _command(row: dict[str, str]) -> CaptureLead:
    value = {k: v.strip() for k, v in row.items() if k in KNOWN_COLUMNS and v and v.strip()}
    source = value.get("source", "import").lower().replace(" ", "_")
    if source not in get_args(SourceChannel):
        raise ValidationFailed(
            f"source '{source}' is not a known channel.",
            field="source",
            hint=f"Use one of: {', '.join(get_args(SourceChannel))}.",
        )
    employees = None
    if "employee_count" in value:
        try:
            employees = int(value["employee_count"].replace(",", ""))
        except ValueError as exc:
            raise ValidationFailed("employee_count must be a whole number.", field="employee_count") from exc
        if not 0 <= employees <= MAX_EMPLOYEES:
            raise ValidationFailed(f"employee_count must be from 0 to {MAX_EMPLOYEES}.", field="employee_count")
    occurred_at = None
    if "occurred_at" in value:
        try:
            occurred_at = datetime.fromisoformat(value["occurred_at"])
        except ValueError as exc:
            raise ValidationFailed("occurred_at must be an ISO-8601 date or datetime.", field="occurred_at") from exc
    consent = {
        ch: ConsentGrant(granted=_flag(value[f"consent_{ch}"], f"consent_{ch}"), source="import")
        for ch in ("email", "sms", "whatsapp")
        if f"consent_{ch}" in value
    }
    utm = {
        part: value[f"utm_{part}"]
        for part in ("source", "medium", "campaign", "term", "content")
        if f"utm_{part}" in value
    }
    tags = [t.strip() for t in value["tags"].split(";") if t.strip()] if "tags" in value else None
    fields = {
        "email": value.get("email"),
        "phone": value.get("phone"),
        "first_name": value.get("first_name"),
        "last_name": value.get("last_name"),
        "title": value.get("title"),
        "company": value.get("company"),
        "company_domain": value.get("company_domain"),
        "industry": value.get("industry"),
        "employee_count": employees,
        "country": value.get("country"),
        "region": value.get("region"),
        "source_channel": source,
        "campaign_ref": value.get("campaign"),
        "utm": utm or None,
        "referrer": value.get("referrer"),
        "landing_page": value.get("landing_page"),
        "occurred_at": occurred_at,
        "consent": ConsentInput(**consent) if consent else None,
        "owner": value.get("owner"),
        "subscribed_only": False,
        "tags": tags,
    }
    try:
        return CaptureLead.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        column = _column(tuple(first["loc"]))
        limit = (first.get("ctx") or {}).get("max_length")
        if limit is not None:
            what = "a tag" if column == "tags" and len(first["loc"]) > 1 else column
            raise ValidationFailed(f"{what} is longer than {limit} characters.", field=column) from exc
        raise ValidationFailed(f"{column}: {first['msg']}.", field=column) from exc


def parse_rows(text: str) -> Iterator[ImportRow | RowProblem]:
    """Yield each data row as capture arguments or as a problem; row numbers count data rows from 1."""
    columns, _ = read_header(text)
    reader = _records(text)
    next(reader)
    for number, cells in enumerate(reader, start=1):
        if number > MAX_ROWS:
            yield RowProblem(number, None, f"Only {MAX_ROWS} rows are imported per file; split the file.")
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            yield RowProblem(number, None, f"Row has {len(cells)} cells but the header has {len(columns)}.")
            continue
        row = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True))
        if not (row.get("email", "").strip() or row.get("phone", "").strip()):
            yield RowProblem(number, "email", "Row has neither an email nor a phone.")
            continue
        try:
            command = _command(row)
        except ValidationFailed as exc:
            yield RowProblem(number, exc.field, exc.public_message())
            continue
        canonical = json.dumps({k: row[k] for k in sorted(row) if k in KNOWN_COLUMNS}, sort_keys=True)
        yield ImportRow(number, command, "import:" + hashlib.sha256(canonical.encode()).hexdigest())
